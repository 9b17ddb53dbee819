package dev.spamtrap.it.relay;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.firewall.Netns;
import dev.spamtrap.it.stack.JamesProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real Postfix (Debian package {@code postfix}) as the trusted backup MX in front of a real James, in a network
 * namespace of our own ({@code trp...}) with its own Cassandra: Postfix listens on 127.0.0.50:25 and relays to James
 * on 127.0.0.1:2525 from 127.0.0.50; clients (swaks) connect to Postfix from other loopback addresses. Needs root,
 * iproute2, postfix and swaks; without them it fails with the reason (it is never skipped).
 */
class PostfixBackupMxTest {
    static final String RELAY = "127.0.0.50";
    static final Duration WAIT = Duration.ofSeconds(30);
    static JamesInNamespace stack;
    static String NS;
    static Path dir;
    static PostfixInNamespace postfix;
    static JamesProcess james;

    @BeforeAll
    static void start() throws Exception {
        stack = JamesInNamespace.start("postfix-mx", "trp", RELAY, 19042, 17000, j -> j
            .spamtrapProperty("refresh.interval", "1s")
            .refusingAtConnect()
            .trustedRelays(RELAY)
            // the usual backup-MX set-up: the relay is relay-authorized too
            .edit("smtpserver.xml", s -> s.replace("<authorizedAddresses>127.0.0.1/32</authorizedAddresses>", "<authorizedAddresses>127.0.0.1/32, " + RELAY + "/32</authorizedAddresses>")));
        NS = stack.namespace;
        dir = stack.dir;
        james = stack.james();
        postfix = stack.postfix("mx2.example.com", RELAY, "127.0.0.50/32");
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack != null) {
            stack.close();
        }
    }

    static String webAdmin(String method, String path, String body) {
        List<String> cmd = Netns.in(NS, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method,
            "http://127.0.0.1:" + james.webAdminPort() + path);
        if (body != null) {
            cmd = new java.util.ArrayList<>(cmd);
            cmd.addAll(List.of("-d", body));
        }
        return Netns.run(cmd).output;
    }

    static String webAdminGet(String path) {
        return Netns.run(Netns.in(NS, "curl", "-s", "http://127.0.0.1:" + james.webAdminPort() + path)).output;
    }

    static String swaks(String from, String helo, String to, String subject) {
        Netns.Result r = Netns.run(Netns.in(NS, "swaks", "--server", RELAY + ":25", "--local-interface", from, "--helo", helo,
            "--from", "bot@spam.test", "--to", to, "--header", "Subject: " + subject, "--body", "body of " + subject, "--timeout", "20"));
        assertThat(r.code).as(r.output).isZero();
        return r.output;
    }

    @Test
    void aTrapRelayedByPostfixIsRecordedAgainstTheRealClientWhateverItsHeloSays() {
        swaks("127.0.0.71", "[127.0.0.99]", "trap@example.com", "via-postfix-helo-literal");
        Await.until(WAIT, "offender 127.0.0.71", () -> webAdmin("GET", "/spamtrap/offenders/127.0.0.71", null), s -> s.equals("200"));
        swaks("127.0.0.73", "x by [127.0.0.98] (unknown [127.0.0.97])", "trap@example.com", "via-postfix-helo-by");
        Await.until(WAIT, "offender 127.0.0.73", () -> webAdmin("GET", "/spamtrap/offenders/127.0.0.73", null), s -> s.equals("200"));
        for (String never : List.of("127.0.0.99", "127.0.0.98", "127.0.0.97", RELAY)) {
            assertThat(webAdmin("GET", "/spamtrap/offenders/" + never, null)).as(never).isEqualTo("404");
        }
        String log = Await.until(WAIT, "relayed hit events", james::log, l -> l.contains("spamtrap hit client=\"127.0.0.73\""));
        assertThat(log).contains("spamtrap hit client=\"127.0.0.71\"").contains("via=\"relay=" + RELAY + "\"");
        // both quarantined: nothing reaches a mailbox, nothing bounces back through Postfix
        assertThat(postfix.log()).doesNotContain("status=bounced");
    }

    @Test
    void theRelayInsideAListedSlash24IsNeverRefusedAndDeliversItsLegitimateMail() {
        assertThat(webAdmin("PUT", "/spamtrap/offenders/127.0.0.0%2F24?lifetime=1h&reason=it", null)).isEqualTo("204");
        swaks("127.0.0.72", "good.example", "alice@example.com", "legit-through-backup-mx");
        String log = Await.until(WAIT, "Postfix relayed it", () -> postfix.log(),
            l -> l.contains("to=<alice@example.com>") && (l.contains("status=sent") || l.contains("status=deferred")));
        assertThat(log).contains("relay=127.0.0.1[127.0.0.1]:2525").contains("status=sent").doesNotContain("status=deferred");
        assertThat(webAdminGet("/spamtrap/export/plain")).doesNotContain("127.0.0.0/24");
        assertThat(webAdmin("DELETE", "/spamtrap/offenders/127.0.0.0%2F24", null)).isEqualTo("204");
    }
}
