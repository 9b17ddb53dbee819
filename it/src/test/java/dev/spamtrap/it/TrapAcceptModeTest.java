package dev.spamtrap.it;

import com.datastax.oss.driver.api.core.cql.Row;
import dev.spamtrap.it.stack.ImapClient;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The demo scenario and the trap rules in accept mode, against a real forked James 3.8.1 with the
 * drop-in jar and a real forked Cassandra 5.0.
 */
class TrapAcceptModeTest {
    static final String QUARANTINE = "var/mail/spamtrap";
    @RegisterExtension
    static final RealJames james = RealJames.named("accept")
        .with(j -> j.refusingAtConnect().edit("allowlist.txt", s -> s + "\n127.0.0.6/32\n"));

    @BeforeAll
    static void start() throws Exception {
        new WebAdmin(james.webAdminPort()).addUser("alice@example.com", "alice");
    }

    static Row offenderRow(String ip) {
        return james.offenderRow("ip, first_hit, last_hit, hit_count, trap, helo, mail_from, node, expires_at, TTL(trap) AS ttl", ip);
    }

    static Row awaitOffenderRow(String ip) {
        return Await.until(Duration.ofSeconds(20), "offender row for " + ip, () -> offenderRow(ip), r -> r != null);
    }

    @Test
    void demoScenarioTrapIsQuarantinedOffenderRefusedAndRefusalSurvivesJamesRestart() {
        int port = james.smtpPort();
        List<String> replies = SmtpClient.deliver("127.0.0.2", port, "bot@spam.test",
            List.of("trap@example.com", "alice@example.com"), "spam-demo");
        assertThat(replies).as("every reply to the trapped client looks like success").allSatisfy(r -> assertThat(r).matches("(?s)^[23]\\d\\d.*"));
        assertThat(replies.get(3)).isEqualTo("250 2.1.5 Recipient <trap@example.com> OK");

        WebAdmin webAdmin = new WebAdmin(james.webAdminPort());
        Await.until(Duration.ofSeconds(20), "quarantined mail", () -> webAdmin.listMails(QUARANTINE),
            keys -> containsSubject(webAdmin, keys, "Subject: spam-demo"));

        List<String> refusal = JamesFixture.connectionAnswer("127.0.0.2", port);
        assertThat(refusal).hasSize(1);
        assertThat(refusal.get(0)).startsWith("450 4.7.1 ").contains("127.0.0.2").doesNotContainIgnoringCase("trap@");

        List<String> good = SmtpClient.deliver("127.0.0.3", port, "friend@good.test", List.of("alice@example.com"), "hello-alice");
        assertThat(good.get(good.size() - 2)).startsWith("250");
        String inbox = Await.until(Duration.ofSeconds(20), "alice's mail", () -> ImapClient.inbox(james.imapPort(), "alice@example.com", "alice"),
            s -> s.contains("Subject: hello-alice"));
        assertThat(inbox).as("alice never receives the trapped message").doesNotContain("spam-demo");

        Row row = awaitOffenderRow("127.0.0.2");
        assertThat(row.getInt("hit_count")).isEqualTo(1);
        assertThat(row.getString("trap")).isEqualTo("trap@example.com");
        assertThat(row.getString("helo")).isEqualTo("client.test");
        assertThat(row.getString("mail_from")).isEqualTo("bot@spam.test");
        assertThat(row.getString("node")).isEqualTo("it-accept");
        Instant last = row.getInstant("last_hit");
        assertThat(row.getInstant("first_hit")).isEqualTo(last);
        assertThat(Duration.between(last, row.getInstant("expires_at"))).isEqualTo(Duration.ofHours(24));
        // kept until the listing's end (24 h) plus offender.historyLifetime (30 d), for escalation
        assertThat(row.getInt("ttl")).isBetween(86_000 + 30 * 86_400, 86_400 + 30 * 86_400);

        james.restart();
        new WebAdmin(james.webAdminPort()).addUser("alice@example.com", "alice");
        List<String> afterRestart = JamesFixture.connectionAnswer("127.0.0.2", james.smtpPort());
        assertThat(afterRestart).hasSize(1);
        assertThat(afterRestart.get(0)).startsWith("450 ").contains("127.0.0.2");
    }

    @Test
    void domainAndRegexTrapsMatchIgnoringCase() {
        int port = james.smtpPort();
        // traps.example.com is served by the demo (domainlist.xml): its trap gets a mailbox's 250, as any served address would
        assertThat(JamesFixture.rcptReply("127.0.0.10", port, "Someone@TRAPS.example.com")).startsWith("250 2.1.5");
        assertThat(JamesFixture.rcptReply("127.0.0.11", port, "SpamMaster@Example.com")).startsWith("250 2.1.5");
        assertThat(JamesFixture.rcptReply("127.0.0.12", port, "TRAP@EXAMPLE.COM")).startsWith("250 2.1.5");
        assertThat(JamesFixture.rcptReply("127.0.0.13", port, "spammer@example.com")).startsWith("550 5.1.1 Unknown user");
        for (String ip : List.of("127.0.0.10", "127.0.0.11", "127.0.0.12")) {
            assertThat(JamesFixture.connectionAnswer(ip, port).get(0)).as(ip).startsWith("450 ");
            assertThat(awaitOffenderRow(ip).getInt("hit_count")).isEqualTo(1);
        }
        assertThat(awaitOffenderRow("127.0.0.11").getString("trap")).isEqualTo("spammaster@example.com");
        assertThat(JamesFixture.connectionAnswer("127.0.0.13", port).get(0)).startsWith("220 ");
    }

    @Test
    void laterRecipientsOfATrappedTransactionGetTheirOwnRepliesAndNothingIsDelivered() {
        int port = james.smtpPort();
        try (SmtpClient c = SmtpClient.connect("127.0.0.18", port)) {
            c.reply();
            c.command("EHLO multi.test");
            c.command("MAIL FROM:<bot@spam.test>");
            assertThat(c.command("RCPT TO:<spam@example.com>")).startsWith("250 ");
            assertThat(c.command("RCPT TO:<nobody@example.com>")).as("unknown user after a trap").startsWith("550 5.1.1");
            assertThat(c.command("RCPT TO:<someone@elsewhere.test>")).as("relay after a trap").doesNotStartWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command("Subject: multi\r\n\r\nbody\r\n.")).startsWith("250 ");
            c.command("QUIT");
        }
        WebAdmin webAdmin = new WebAdmin(james.webAdminPort());
        Await.until(Duration.ofSeconds(20), "quarantined multi-recipient mail", () -> webAdmin.listMails(QUARANTINE),
            s -> s.split(",").length >= 1 && !s.equals("[]") && containsSubject(webAdmin, s, "Subject: multi"));
        assertThat(webAdmin.listMails("var/mail/relay")).isEqualTo("[]");
        assertThat(webAdmin.listMails("var/mail/address-error")).isEqualTo("[]");
    }

    private static boolean containsSubject(WebAdmin webAdmin, String keys, String subject) {
        for (String k : keys.replaceAll("[\\[\\]\"]", "").split(",")) {
            if (!k.isBlank() && webAdmin.getMail(QUARANTINE, k.trim()).contains(subject)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void authenticatedRelayAuthorizedAndAllowlistedClientsGetTheOutsidersReplyAndAreNeverRecorded() {
        int port = james.smtpPort();
        try (SmtpClient c = SmtpClient.connect("127.0.0.5", port)) {
            c.reply();
            c.command("EHLO auth.test");
            String plain = Base64.getEncoder().encodeToString("\0alice@example.com\0alice".getBytes());
            assertThat(c.command("AUTH PLAIN " + plain)).startsWith("235");
            c.command("MAIL FROM:<alice@example.com>");
            assertThat(c.command("RCPT TO:<trap@example.com>")).isEqualTo("250 2.1.5 Recipient <trap@example.com> OK");
            c.command("QUIT");
        }
        assertThat(JamesFixture.rcptReply("127.0.0.6", port, "trap@example.com")).as("allowlisted").isEqualTo("250 2.1.5 Recipient <trap@example.com> OK");
        assertThat(JamesFixture.rcptReply("127.0.0.1", port, "trap@example.com")).as("relay-authorized").isEqualTo("250 2.1.5 Recipient <trap@example.com> OK");
        // Positive control: a hit recorded after them is in Cassandra, so theirs would be by now (the spool drains in order).
        assertThat(JamesFixture.rcptReply("127.0.0.14", port, "trap@example.com")).startsWith("250");
        awaitOffenderRow("127.0.0.14");
        for (String ip : List.of("127.0.0.5", "127.0.0.6", "127.0.0.1")) {
            assertThat(offenderRow(ip)).as(ip).isNull();
            assertThat(JamesFixture.connectionAnswer(ip, port).get(0)).as(ip).startsWith("220 ");
        }
    }

    @Test
    void trapAndAllowlistChangesApplyWithoutRestart() throws Exception {
        int port = james.smtpPort();
        assertThat(JamesFixture.rcptReply("127.0.0.15", port, "dynamic@example.com")).startsWith("550 5.1.1");
        SharedCassandra.cql().execute("INSERT INTO " + james.keyspace() + ".traps (entry, comment) VALUES ('dynamic@example.com', 'it')");
        Await.until(Duration.ofSeconds(20), "trap from Cassandra table", () -> JamesFixture.rcptReply("127.0.0.15", port, "dynamic@example.com"),
            r -> r.startsWith("250") || r.startsWith("no session"));
        assertThat(JamesFixture.connectionAnswer("127.0.0.15", port).get(0)).startsWith("450 ");

        SharedCassandra.cql().execute("INSERT INTO " + james.keyspace() + ".allowlist (cidr, comment) VALUES ('127.0.0.16/32', 'it')");
        Files.writeString(james.process().conf().resolve("traps.txt"), "\nfiletrap@example.com\n", StandardOpenOption.APPEND);
        Await.until(Duration.ofSeconds(20), "trap from reloaded file", () -> JamesFixture.rcptReply("127.0.0.17", port, "filetrap@example.com"),
            r -> r.startsWith("250") || r.startsWith("no session"));
        assertThat(JamesFixture.connectionAnswer("127.0.0.17", port).get(0)).startsWith("450 ");
        // By now the allowlist row has been read too (same refresh): 127.0.0.16 is exempt.
        assertThat(JamesFixture.rcptReply("127.0.0.16", port, "trap@example.com")).startsWith("250 2.1.5");
        assertThat(JamesFixture.connectionAnswer("127.0.0.16", port).get(0)).startsWith("220 ");
    }
}
