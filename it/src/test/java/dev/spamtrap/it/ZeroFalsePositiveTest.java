package dev.spamtrap.it;

import com.datastax.oss.driver.api.core.cql.Row;
import dev.spamtrap.it.stack.ImapClient;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 20 against a real forked James 3.8.1 and Cassandra, over real SMTP: bounces, exempt clients, trusted relays
 * inside listed prefixes, IPv6 keys, the verdict at every MAIL FROM, and the event line.
 */
class ZeroFalsePositiveTest {
    static final String QUARANTINE = "var/mail/spamtrap";
    static final Duration WAIT = Duration.ofSeconds(20);
    static final String TRAP_OK = "250 2.1.5 Recipient <trap@example.com> OK";
    @RegisterExtension
    static final RealJames james = RealJames.named("zero-fp")
        .with(j -> j.refusingAtConnect().trustedRelays("127.0.2.25, ::1")
            .edit("allowlist.txt", s -> s + "\n127.0.1.6/32\n")
            // a backup MX at 127.0.2.25 and at ::1, relay-authorized too (the usual set-up); 0.0.0.0 also listens on IPv6
            .edit("smtpserver.xml", s -> s.replace("<authorizedAddresses>127.0.0.1/32</authorizedAddresses>", "<authorizedAddresses>127.0.0.1/32, 127.0.2.25/32</authorizedAddresses>")
                .replaceAll("<bind>127\\.0\\.0\\.1:(\\d+)</bind>", "<bind>0.0.0.0:$1</bind>")));
    static WebAdmin web;

    @BeforeAll
    static void start() {
        web = james.webAdmin();
        web.addUser("alice@example.com", "alice");
    }

    static Row offenderRow(String key) {
        return james.offenderRow("ip, hit_count, helo, reason", key);
    }

    /** A trap hit by a fresh client, whose row proves the spool has drained past everything recorded before it. */
    static void positiveControl(String ip) {
        assertThat(JamesFixture.rcptReply(ip, james.smtpPort(), "trap@example.com")).isEqualTo(TRAP_OK);
        Await.until(WAIT, "control offender " + ip, () -> offenderRow(ip), r -> r != null);
    }

    static String inbox() {
        return ImapClient.inbox(james.imapPort(), "alice@example.com", "alice");
    }

    static boolean quarantined(String subject) {
        String keys = web.listMails(QUARANTINE);
        for (String k : keys.replaceAll("[\\[\\]\"]", "").split(",")) {
            if (!k.isBlank() && web.getMail(QUARANTINE, k.trim()).contains("Subject: " + subject)) {
                return true;
            }
        }
        return false;
    }

    static String message(String from, String subject) {
        return "From: <" + from + ">\r\nTo: <alice@example.com>\r\nSubject: " + subject + "\r\nMessage-ID: <" + System.nanoTime()
            + "@zero.test>\r\n\r\nbody of " + subject + "\r\n.";
    }

    @Test
    void aBounceToATrapIsQuarantinedListsNothingAndTheBouncerDeliversAtOnceAfterwards() {
        int port = james.smtpPort();
        try (SmtpClient c = SmtpClient.connect("127.0.0.30", port)) {
            c.reply();
            c.command("EHLO mx.provider.test");
            assertThat(c.command("MAIL FROM:<>")).startsWith("250");
            assertThat(c.command("RCPT TO:<trap@example.com>")).isEqualTo(TRAP_OK);
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command(message("MAILER-DAEMON@provider.test", "dsn-to-trap"))).startsWith("250");
            // the same connection's next message, a real one, is delivered: the bouncer is not trapped
            assertThat(c.command("MAIL FROM:<news@provider.test>")).startsWith("250");
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command(message("news@provider.test", "after-dsn-same-connection"))).startsWith("250");
            c.command("QUIT");
        }
        Await.until(WAIT, "quarantined DSN", () -> quarantined("dsn-to-trap"), q -> q);
        positiveControl("127.0.0.39");
        assertThat(offenderRow("127.0.0.30")).as("the bouncer is never listed").isNull();
        // at once afterwards, on a new connection: greeted and delivered
        List<String> replies = SmtpClient.deliver("127.0.0.30", port, "news@provider.test", List.of("alice@example.com"), "after-dsn");
        assertThat(replies.get(0)).startsWith("220 ");
        assertThat(replies.get(replies.size() - 2)).startsWith("250");
        String inbox = Await.until(WAIT, "alice's mail from the bouncer", ZeroFalsePositiveTest::inbox,
            s -> s.contains("Subject: after-dsn\r") || s.contains("Subject: after-dsn\n"));
        assertThat(inbox).contains("Subject: after-dsn-same-connection").doesNotContain("Subject: dsn-to-trap");
        assertThat(Await.until(WAIT, "backscatter event", james::log, l -> l.contains("spamtrap backscatter client=\"127.0.0.30\"")))
            .doesNotContain("spamtrap hit client=\"127.0.0.30\"");
        assertThat(web.get("/metrics")).containsPattern("(?m)^spamtrap_backscatter(_total)? [1-9]");
    }

    @Test
    void anAuthenticatedUserSendingToATrapGetsA250IsNotListedAndIsReportedAsACompromisedAccount() {
        int port = james.smtpPort();
        try (SmtpClient c = SmtpClient.connect("127.0.0.31", port)) {
            c.reply();
            c.command("EHLO laptop.test");
            String plain = Base64.getEncoder().encodeToString("\0alice@example.com\0alice".getBytes(StandardCharsets.US_ASCII));
            assertThat(c.command("AUTH PLAIN " + plain)).startsWith("235");
            assertThat(c.command("MAIL FROM:<alice@example.com>")).startsWith("250");
            assertThat(c.command("RCPT TO:<trap@example.com>")).isEqualTo(TRAP_OK);
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command(message("alice@example.com", "from-stolen-login"))).startsWith("250");
            c.command("QUIT");
        }
        // the co-recipient gets it, the trap's copy is kept back
        Await.until(WAIT, "alice's copy", ZeroFalsePositiveTest::inbox, s -> s.contains("Subject: from-stolen-login"));
        Await.until(WAIT, "the trap's copy in quarantine", () -> quarantined("from-stolen-login"), q -> q);
        String accounts = Await.until(WAIT, "compromised accounts", () -> web.get("/spamtrap/compromised-accounts"),
            s -> s.contains("alice@example.com"));
        assertThat(accounts).contains("\"account\":\"alice@example.com\"", "\"lastClient\":\"127.0.0.31\"", "\"lastTrap\":\"trap@example.com\"");
        positiveControl("127.0.0.38");
        assertThat(offenderRow("127.0.0.31")).isNull();
        assertThat(JamesFixture.connectionAnswer("127.0.0.31", port).get(0)).startsWith("220 ");
        assertThat(james.log()).contains("spamtrap exempt-hit client=\"127.0.0.31\" exempt=\"authenticated\" account=\"alice@example.com\"");
        assertThat(web.get("/metrics")).containsPattern("(?m)^spamtrap_exempt_hits_authenticated(_total)? [1-9]");
    }

    @Test
    void allowlistedAndRelayAuthorizedClientsGetTheOutsidersReplyAndAreNotListed() {
        int port = james.smtpPort();
        assertThat(JamesFixture.rcptReply("127.0.1.6", port, "trap@example.com")).as("allowlisted").isEqualTo(TRAP_OK);
        assertThat(JamesFixture.rcptReply("127.0.0.1", port, "trap@example.com")).as("relay-authorized").isEqualTo(TRAP_OK);
        assertThat(JamesFixture.rcptReply("127.0.0.32", port, "trap@example.com")).as("anyone").isEqualTo(TRAP_OK);
        positiveControl("127.0.0.37");
        assertThat(offenderRow("127.0.1.6")).isNull();
        assertThat(offenderRow("127.0.0.1")).isNull();
        assertThat(JamesFixture.connectionAnswer("127.0.1.6", port).get(0)).startsWith("220 ");
    }

    @Test
    void aTrustedRelayInsideAListedPrefixDeliversAndItsTrapIsAttributedToTheClientItNames() {
        int port = james.smtpPort();
        assertThat(web.request("PUT", "/spamtrap/offenders/127.0.2.0%2F24?lifetime=1h&reason=it", "").statusCode()).isEqualTo(204);
        // control: another address of the /24 is refused
        Await.until(WAIT, "the /24 refuses its other addresses", () -> JamesFixture.connectionAnswer("127.0.2.26", port).get(0), r -> r.startsWith("450"));
        // the relay itself: greeted, delivers, is never tarpitted
        List<String> replies = SmtpClient.deliver("127.0.2.25", port, "someone@far.test", List.of("alice@example.com"), "via-backup-mx");
        assertThat(replies.get(0)).startsWith("220 ");
        assertThat(replies.get(replies.size() - 2)).startsWith("250");
        Await.until(WAIT, "relayed mail delivered", ZeroFalsePositiveTest::inbox, s -> s.contains("Subject: via-backup-mx"));
        // a trap passed by the (relay-authorized) trusted relay: recorded against the client its own Postfix header names
        try (SmtpClient c = SmtpClient.connect("127.0.2.25", port)) {
            c.reply();
            c.command("EHLO mx2.example.com");
            c.command("MAIL FROM:<bot@spam.test>");
            assertThat(c.command("RCPT TO:<trap@example.com>")).isEqualTo(TRAP_OK);
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command("Received: from [127.0.3.99] (unknown [127.0.3.9])\r\n\tby mx2.example.com (Postfix) with ESMTP id 4XyZ1\r\n"
                + "\tfor <trap@example.com>; Sun, 6 Dec 2026 13:00:00 +0000 (UTC)\r\n" + message("bot@spam.test", "relayed-trap"))).startsWith("250");
            c.command("QUIT");
        }
        Row row = Await.until(WAIT, "relayed offender", () -> offenderRow("127.0.3.9"), r -> r != null);
        assertThat(row.getString("helo")).isEqualTo("[127.0.3.99]");
        assertThat(offenderRow("127.0.3.99")).as("the HELO's address").isNull();
        assertThat(offenderRow("127.0.2.25")).as("the relay").isNull();
        Await.until(WAIT, "relayed trap quarantined", () -> quarantined("relayed-trap"), q -> q);
        assertThat(Await.until(WAIT, "relayed hit event", james::log, l -> l.contains("spamtrap hit client=\"127.0.3.9\"")))
            .contains("via=\"relay=127.0.2.25\"");
        // the export leaves out the /24 around the relay
        assertThat(web.get("/spamtrap/export/plain")).doesNotContain("127.0.2.0/24").contains("127.0.3.9");
    }

    @Test
    void aTrustedRelayInsideAListedIpv6Slash64Delivers() throws Exception {
        int port = james.smtpPort();
        assertThat(web.request("PUT", "/spamtrap/offenders/0:0:0:0:0:0:0:0%2F64?lifetime=1h&reason=it", "").statusCode()).isEqualTo(204);
        Await.until(WAIT, "the /64 is listed", () -> web.request("GET", "/spamtrap/offenders/::1", null).statusCode(), s -> s == 200);
        List<String> replies = ipv6Delivery(port, "via-ipv6-backup-mx");
        assertThat(replies.get(0)).startsWith("220 ");
        assertThat(replies.get(replies.size() - 1)).startsWith("250");
        Await.until(WAIT, "IPv6-relayed mail delivered", ZeroFalsePositiveTest::inbox, s -> s.contains("Subject: via-ipv6-backup-mx"));
        assertThat(web.request("DELETE", "/spamtrap/offenders/%3A%3A%2F64", null).statusCode()).isEqualTo(204);
    }

    /** Greeting, EHLO, MAIL, RCPT, DATA, the message's final reply, from [::1]. */
    static List<String> ipv6Delivery(int port, String subject) throws Exception {
        List<String> replies = new ArrayList<>();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("::1", port), 5000);
            s.setSoTimeout(30_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            replies.add(reply(in));
            for (String cmd : List.of("EHLO mx6.example.com", "MAIL FROM:<someone@far.test>", "RCPT TO:<alice@example.com>", "DATA",
                message("someone@far.test", subject))) {
                out.write((cmd + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                replies.add(reply(in));
            }
            out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
        return replies;
    }

    static String reply(BufferedReader in) throws Exception {
        String line;
        StringBuilder all = new StringBuilder();
        while ((line = in.readLine()) != null) {
            all.append(line).append('\n');
            if (line.length() < 4 || line.charAt(3) != '-') {
                break;
            }
        }
        return all.toString().trim();
    }

    @Test
    void anIpv6PrefixIsReadAndForgivenByEverySpellingAndStaysForgiven() {
        assertThat(web.request("PUT", "/spamtrap/offenders/2001:0db8:0:0:0:0:0:0%2F64?lifetime=1h&reason=it", "").statusCode()).isEqualTo(204);
        Await.until(WAIT, "row under the one spelling", () -> offenderRow("2001:db8::/64"), r -> r != null);
        assertThat(offenderRow("2001:db8:0:0:0:0:0:0/64")).isNull();
        assertThat(web.request("GET", "/spamtrap/offenders/2001:db8::%2F64", null).statusCode()).isEqualTo(200);
        assertThat(web.request("GET", "/spamtrap/offenders/2001:DB8:0:0:0:0:0:0%2F64", null).statusCode()).isEqualTo(200);
        HttpResponse<String> inside = web.request("GET", "/spamtrap/offenders/2001:db8::77", null);
        assertThat(inside.statusCode()).isEqualTo(200);
        assertThat(inside.body()).contains("2001:db8::/64");
        assertThat(web.request("DELETE", "/spamtrap/offenders/2001:db8:0:0:0:0:0:1", null).statusCode()).isEqualTo(204);
        // forgive writes the key's forgiven marker (docs/store.md): no tombstone to resurrect, and a restart reads it as not listed
        assertThat(offenderRow("2001:db8::/64").getString("reason")).as("the Cassandra row after the forgive").isEqualTo("forgiven");
        assertThat(web.request("GET", "/spamtrap/offenders/2001:db8::%2F64", null).statusCode()).isEqualTo(404);
        // and after a restart (the view reloads from Cassandra)
        james.restart();
        web = new WebAdmin(james.webAdminPort());
        web.addUser("alice@example.com", "alice");
        assertThat(web.request("GET", "/spamtrap/offenders/2001:db8::77", null).statusCode()).isEqualTo(404);
        assertThat(web.get("/spamtrap/offenders")).doesNotContain("2001:db8::/64");
    }

    @Test
    void aConnectionOpenBeforeItsClientIsListedGetsNoFurtherMailThrough() {
        int port = james.smtpPort();
        try (SmtpClient early = SmtpClient.connect("127.0.0.40", port)) {
            assertThat(early.reply()).startsWith("220 ");
            early.command("EHLO early.test");
            assertThat(early.command("MAIL FROM:<bot@spam.test>")).startsWith("250");
            assertThat(early.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(early.command("DATA")).startsWith("354");
            assertThat(early.command(message("bot@spam.test", "before-the-hit"))).startsWith("250");
            // another connection of the same client hits a trap
            assertThat(JamesFixture.rcptReply("127.0.0.40", port, "trap@example.com")).isEqualTo(TRAP_OK);
            String refusal = early.command("MAIL FROM:<bot@spam.test>");
            assertThat(refusal).startsWith("450 4.7.1").contains("127.0.0.40").doesNotContain("trap@");
            assertThat(early.readUntilClosed()).isEmpty();
        }
        Await.until(WAIT, "the message before the hit", ZeroFalsePositiveTest::inbox, s -> s.contains("Subject: before-the-hit"));
    }

    @Test
    void aHeloWithAClientFieldYieldsOneClientFieldAndFail2banBansTheRealClient() throws Exception {
        int port = james.smtpPort();
        try (SmtpClient c = SmtpClient.connect("127.0.0.41", port)) {
            c.reply();
            c.command("EHLO x client=6.6.6.6");
            c.command("MAIL FROM:<bot@spam.test>");
            assertThat(c.command("RCPT TO:<trap@example.com>")).isEqualTo(TRAP_OK);
            c.command("QUIT");
        }
        String log = Await.until(WAIT, "the hit event", james::log, l -> l.contains("spamtrap hit client=\"127.0.0.41\""));
        String line = log.lines().filter(l -> l.contains("spamtrap hit client=\"127.0.0.41\"")).findFirst().orElseThrow();
        assertThat(count(line, "client=\"")).as(line).isEqualTo(1);
        assertThat(line).contains("helo=\"x client=6.6.6.6\"");
        assertThat(log.lines().filter(l -> l.contains("127.0.0.41") && l.contains("spamtrap")).count()).as("one event line per hit").isEqualTo(1);

        Path filter = ProjectLayout.locate().root().resolve("docs/fail2ban/james-spamtrap.conf");
        Path logFile = Files.createTempFile("james-spamtrap", ".log");
        Files.writeString(logFile, log);
        Process p = new ProcessBuilder("fail2ban-regex", "-v", logFile.toString(), filter.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).as(out).contains("127.0.0.41").doesNotContain("6.6.6.6");
        Matcher matched = Pattern.compile("Lines: \\d+ lines, \\d+ ignored, (\\d+) matched").matcher(out);
        assertThat(matched.find()).as(out).isTrue();
        assertThat(Integer.parseInt(matched.group(1))).isPositive();
    }

    static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
