package dev.spamtrap.it.hostile;

import com.datastax.oss.driver.api.core.cql.Row;
import dev.spamtrap.it.Await;
import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.RealJames;
import dev.spamtrap.it.SharedCassandra;
import dev.spamtrap.it.stack.ImapClient;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that probes, pipelines, keeps its connection open and relays, against a real forked James 3.8.1
 * (sample configuration: AUTH offered, so the offender check is taken at MAIL FROM) and a real Cassandra.
 */
class HostileClientTest {
    static final String QUARANTINE = "var/mail/spamtrap";
    static final String RELAY = "127.0.1.40";
    @RegisterExtension
    static final RealJames james = RealJames.named("hostile")
        .with(j -> j.offenderMode("refuse")
            .trustedRelays(RELAY)
            .edit("traps.txt", s -> s + "\n@traps.remote.test\n/(.*a){12}@traps/\n"));
    static WebAdmin webAdmin;

    @BeforeAll
    static void start() {
        webAdmin = new WebAdmin(james.webAdminPort());
        webAdmin.addUser("alice@example.com", "alice");
    }

    static Row offenderRow(String ip) {
        return james.offenderRow("ip, hit_count, expires_at, last_hit", ip);
    }

    static Row awaitOffenderRow(String ip) {
        return Await.until(Duration.ofSeconds(30), "offender row for " + ip, () -> offenderRow(ip), r -> r != null);
    }

    /** EHLO, then MAIL FROM: the reply to MAIL is where a listed client is refused (AUTH is offered here). */
    static String mailReply(String ip) {
        try (SmtpClient c = SmtpClient.connect(ip, james.smtpPort())) {
            String greeting = c.reply();
            if (!greeting.startsWith("220")) {
                return greeting;
            }
            c.command("EHLO probe.test");
            String reply = c.command("MAIL FROM:<probe@sender.test>");
            if (reply != null && reply.startsWith("250")) {
                c.command("QUIT");
            }
            return reply;
        }
    }

    static List<String> probe(String ip, String first) {
        List<String> replies = new ArrayList<>();
        try (SmtpClient c = SmtpClient.connect(ip, james.smtpPort())) {
            c.reply();
            c.command("EHLO probe.test");
            c.command("MAIL FROM:<harvester@spam.test>");
            if (first != null) {
                replies.add(c.command("RCPT TO:<" + first + ">"));
            }
            replies.add(c.command("RCPT TO:<nobody-x@example.com>"));
            replies.add(c.command("RCPT TO:<someone@elsewhere.test>"));
            replies.add(c.command("RCPT TO:<alice@example.com>"));
            c.command("QUIT");
        }
        return replies;
    }

    static String message(String subject) {
        return "From: <bot@spam.test>\r\nTo: <alice@example.com>\r\nSubject: " + subject + "\r\n\r\nbody of " + subject + "\r\n.";
    }

    static boolean quarantined(String subject) {
        for (String k : webAdmin.listMails(QUARANTINE).replaceAll("[\\[\\]\"]", "").split(",")) {
            if (!k.isBlank() && webAdmin.getMail(QUARANTINE, k.trim()).contains("Subject: " + subject)) {
                return true;
            }
        }
        return false;
    }

    /** Waits for a clean control message in alice's inbox, then returns the inbox (earlier mail is in by then). */
    static String aliceInboxAfterControl(String controlIp) {
        String subject = "control-" + System.nanoTime();
        List<String> r = SmtpClient.deliver(controlIp, james.smtpPort(), "friend@good.test", List.of("alice@example.com"), subject);
        assertThat(r.get(r.size() - 2)).startsWith("250");
        return Await.until(Duration.ofSeconds(30), "control mail", () -> ImapClient.inbox(james.imapPort(), "alice@example.com", "alice"),
            s -> s.contains("Subject: " + subject));
    }

    @Test
    void aProbeAfterATrapGetsExactlyTheRepliesOfASessionWithoutIt() {
        List<String> clean = probe("127.0.1.1", null);
        List<String> trapped = probe("127.0.1.2", "trap@example.com");
        assertThat(trapped.get(0)).isEqualTo("250 2.1.5 Recipient <trap@example.com> OK");
        assertThat(trapped.subList(1, trapped.size())).isEqualTo(clean);
        assertThat(clean.get(0)).startsWith("550 5.1.1");
        assertThat(clean.get(1)).doesNotStartWith("250");
        assertThat(clean.get(2)).startsWith("250");
        // a trap in a domain this server does not serve gets James's own answer for that domain, like elsewhere.test
        assertThat(JamesFixture.rcptReply("127.0.1.10", james.smtpPort(), "someone@traps.remote.test"))
            .isEqualTo(JamesFixture.rcptReply("127.0.1.11", james.smtpPort(), "someone@elsewhere.test"));
        awaitOffenderRow("127.0.1.2");
        awaitOffenderRow("127.0.1.10");
        assertThat(offenderRow("127.0.1.1")).isNull();
        assertThat(offenderRow("127.0.1.11")).isNull();
    }

    @Test
    void aTrappedConnectionGetsNothingThroughAfterDataRsetOrANewEhlo() {
        try (SmtpClient c = SmtpClient.connect("127.0.1.3", james.smtpPort())) {
            c.reply();
            c.command("EHLO multi.test");
            c.command("MAIL FROM:<bot@spam.test>");
            assertThat(c.command("RCPT TO:<trap@example.com>")).startsWith("250");
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command(message("t1-first"))).startsWith("250");
            assertThat(c.command("MAIL FROM:<bot@spam.test>")).startsWith("250");
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command(message("t2-second-transaction"))).startsWith("250");
            c.command("MAIL FROM:<bot@spam.test>");
            c.command("RCPT TO:<alice@example.com>");
            assertThat(c.command("RSET")).startsWith("250");
            assertThat(c.command("MAIL FROM:<bot@spam.test>")).startsWith("250");
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command(message("t3-after-rset"))).startsWith("250");
            assertThat(c.command("EHLO again.test")).startsWith("250");
            assertThat(c.command("MAIL FROM:<bot@spam.test>")).startsWith("250");
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command(message("t4-after-ehlo"))).startsWith("250");
            c.command("QUIT");
        }
        for (String s : List.of("t1-first", "t2-second-transaction", "t3-after-rset", "t4-after-ehlo")) {
            Await.until(Duration.ofSeconds(30), "quarantined " + s, () -> quarantined(s), q -> q);
        }
        String inbox = aliceInboxAfterControl("127.0.1.9");
        assertThat(inbox).doesNotContain("t1-first").doesNotContain("t2-second").doesNotContain("t3-after").doesNotContain("t4-after");
        assertThat(awaitOffenderRow("127.0.1.3").getInt("hit_count")).isEqualTo(1);
    }

    @Test
    void aWholeTrappedTransactionPipelinedInOneWriteIsQuarantined() {
        try (SmtpClient c = SmtpClient.connect("127.0.1.4", james.smtpPort())) {
            c.reply();
            c.write("EHLO piped.test\r\nMAIL FROM:<bot@spam.test>\r\nRCPT TO:<trap@example.com>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n"
                + message("piped-spam") + "\r\nQUIT\r\n");
            List<String> replies = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                replies.add(c.reply());
            }
            assertThat(replies.get(0)).startsWith("250");
            assertThat(replies.subList(1, 4)).allSatisfy(r -> assertThat(r).startsWith("250"));
            assertThat(replies.get(4)).startsWith("354");
            assertThat(replies.get(5)).startsWith("250");
            assertThat(replies.get(6)).startsWith("221");
        }
        Await.until(Duration.ofSeconds(30), "quarantined piped-spam", () -> quarantined("piped-spam"), q -> q);
        assertThat(aliceInboxAfterControl("127.0.1.9")).doesNotContain("piped-spam");
    }

    @Test
    void fourTrapsInOneConnectionAreOneHitAndTheListedClientIsRefusedAtMail() {
        try (SmtpClient c = SmtpClient.connect("127.0.1.5", james.smtpPort())) {
            c.reply();
            c.command("EHLO four.test");
            c.command("MAIL FROM:<bot@spam.test>");
            for (String t : List.of("trap@example.com", "spam@example.com", "spammaster@example.com", "spamtrap@example.com")) {
                assertThat(c.command("RCPT TO:<" + t + ">")).startsWith("250");
            }
            c.command("QUIT");
        }
        Row row = awaitOffenderRow("127.0.1.5");
        assertThat(row.getInt("hit_count")).isEqualTo(1);
        assertThat(Duration.between(row.getInstant("last_hit"), row.getInstant("expires_at"))).isEqualTo(Duration.ofHours(24));
        Await.until(Duration.ofSeconds(30), "refusal at MAIL", () -> mailReply("127.0.1.5"), r -> r.startsWith("450 "));
        assertThat(mailReply("127.0.1.5")).isEqualTo("450 4.7.1 Your address 127.0.1.5 has sent mail to a spamtrap on this server within the last 24 hours");
    }

    @Test
    void aHugeHeloFullOfTerminalEscapesIsStoredCutAndClean() {
        // what a bot says is evidence, shown to administrators in logs, WebAdmin and the export: never raw escapes,
        // never kilobytes per hit
        String helo = "\u001b[2J\u001b]0;owned\u0007" + "x".repeat(1500) + ".test";
        try (SmtpClient c = SmtpClient.connect("127.0.1.7", james.smtpPort())) {
            c.reply();
            assertThat(c.command("EHLO " + helo)).startsWith("250");
            c.command("MAIL FROM:<bot@spam.test>");
            assertThat(c.command("RCPT TO:<trap@example.com>")).startsWith("250");
            c.command("QUIT");
        }
        awaitOffenderRow("127.0.1.7");
        Row hit = SharedCassandra.cql().execute("SELECT hit_helo FROM " + james.keyspace() + ".offenders WHERE ip = ?", "127.0.1.7").one();
        assertThat(hit.getString("hit_helo")).hasSize(256).startsWith("?[2J?]0;owned?xxx").endsWith("...")
            .doesNotContain("\u001b").doesNotContain("\u0007");
        String log = Await.until(Duration.ofSeconds(10), "the hit's event in James's log", james::log,
            l -> l.contains("spamtrap hit client=\"127.0.1.7\" "));
        for (String line : log.split("\n")) {
            assertThat(line).as("James log line").doesNotContain("\u001b]0;owned");
            if (line.contains("127.0.1.7") && line.toLowerCase(java.util.Locale.ROOT).contains("hit")) {
                assertThat(line).as("James log line").contains("?[2J?]0;owned?xxx").doesNotContain("\u0007").hasSizeLessThan(600);
            }
        }
    }

    @Test
    void percentLIsTheLifetimeThisClientGotAndAListedAddressMayStillAuthenticateAndSend() {
        // A client listed for 3 days (offender.maxLifetime, as a repeat offender would be), through the administrator's route.
        assertThat(webAdmin.request("PUT", "/spamtrap/offenders/127.0.1.6?lifetime=3d", "").statusCode()).isEqualTo(204);
        String refusal = Await.until(Duration.ofSeconds(30), "listed 3 days", () -> mailReply("127.0.1.6"), r -> r.startsWith("450 "));
        // listed by hand: %R says so (a hand listing is not a trap hit)
        assertThat(refusal).isEqualTo("450 4.7.1 Your address 127.0.1.6 is listed by this server's administrator within the last 3 days");

        String subject = "authenticated-" + System.nanoTime();
        try (SmtpClient c = SmtpClient.connect("127.0.1.6", james.smtpPort())) {
            assertThat(c.reply()).startsWith("220");
            assertThat(c.command("EHLO user.test")).contains("AUTH");
            String plain = Base64.getEncoder().encodeToString("\0alice@example.com\0alice".getBytes());
            assertThat(c.command("AUTH PLAIN " + plain)).startsWith("235");
            assertThat(c.command("MAIL FROM:<alice@example.com>")).startsWith("250");
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command("Subject: " + subject + "\r\n\r\nfrom behind the NAT\r\n.")).startsWith("250");
            c.command("QUIT");
        }
        Await.until(Duration.ofSeconds(30), "authenticated mail delivered", () -> ImapClient.inbox(james.imapPort(), "alice@example.com", "alice"),
            s -> s.contains("Subject: " + subject));
    }

    @Test
    void aPathologicalPatternCannotStallTheServer() throws Exception {
        String local = "a".repeat(8000) + "b";
        CompletableFuture<String> slow = CompletableFuture.supplyAsync(() -> {
            try (SmtpClient c = SmtpClient.connect("127.0.1.7", james.smtpPort())) {
                c.reply();
                c.command("EHLO slow.test");
                c.command("MAIL FROM:<bot@spam.test>");
                return c.command("RCPT TO:<" + local + "@example.com>");
            }
        });
        List<Long> greetingMillis = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            long t0 = System.nanoTime();
            try (SmtpClient c = SmtpClient.connect("127.0.1.8", james.smtpPort())) {
                assertThat(c.reply()).startsWith("220");
                greetingMillis.add((System.nanoTime() - t0) / 1_000_000);
                c.command("QUIT");
            }
        }
        // the 8 KB RCPT itself is answered (with backtracking it would run for ages) ...
        assertThat(slow.get(60, java.util.concurrent.TimeUnit.SECONDS)).matches("^[2345]\\d\\d .*");
        // ... and clean clients on every event loop got their greeting meanwhile
        assertThat(greetingMillis).allSatisfy(ms -> assertThat(ms).isLessThan(1000));
        assertThat(offenderRow("127.0.1.7")).isNull();
    }

    @Test
    void aHitRelayedByATrustedRelayIsAttributedToTheClientInItsReceivedHeader() {
        String received = "Received: from bad.example (bad.example [127.0.1.41])\r\n\tby mx2.example.com (Postfix) with ESMTP id 4XyZ\r\n"
            + "\tfor <trap@example.com>; Mon, 23 Nov 2026 02:00:00 +0000\r\n";
        try (SmtpClient c = SmtpClient.connect(RELAY, james.smtpPort())) {
            c.reply();
            c.command("EHLO mx2.example.com");
            c.command("MAIL FROM:<bot@spam.test>");
            assertThat(c.command("RCPT TO:<trap@example.com>")).startsWith("250");
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command(received + message("relayed-spam"))).startsWith("250");
            // unreadable chain: nobody recorded
            c.command("MAIL FROM:<bot@spam.test>");
            assertThat(c.command("RCPT TO:<trap@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command("Received: from somewhere by mx2.example.com; Mon, 23 Nov 2026 02:00:00 +0000\r\n" + message("relayed-unreadable")))
                .startsWith("250");
            // the relay's next, clean message goes through
            c.command("MAIL FROM:<friend@good.test>");
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command("Received: from good.example (good.example [127.0.1.42]) by mx2.example.com; Mon, 23 Nov 2026 02:00:00 +0000\r\n"
                + "Subject: relayed-clean\r\n\r\nhello\r\n.")).startsWith("250");
            c.command("QUIT");
        }
        awaitOffenderRow("127.0.1.41");
        Await.until(Duration.ofSeconds(30), "quarantined relayed-spam", () -> quarantined("relayed-spam"), q -> q);
        Await.until(Duration.ofSeconds(30), "quarantined relayed-unreadable", () -> quarantined("relayed-unreadable"), q -> q);
        Await.until(Duration.ofSeconds(30), "relayed clean mail", () -> ImapClient.inbox(james.imapPort(), "alice@example.com", "alice"),
            s -> s.contains("Subject: relayed-clean"));
        assertThat(offenderRow(RELAY)).isNull();
        assertThat(offenderRow("127.0.1.42")).isNull();
        assertThat(james.log()).contains("recorded against nobody");
        Await.until(Duration.ofSeconds(30), "direct refusal of the relayed offender", () -> mailReply("127.0.1.41"), r -> r.startsWith("450 "));
        assertThat(mailReply(RELAY)).startsWith("250");
        assertThat(aliceInboxAfterControl("127.0.1.9")).doesNotContain("relayed-spam");
    }
}
