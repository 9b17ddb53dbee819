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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No false positive from a real MTA: real Postfix (Debian package {@code postfix}) as an ordinary outside sender (not
 * relay-authorized, not trusted) delivering to a real James whose pregreet sensor refuses early talkers, in a network
 * namespace of our own with its own Cassandra. Postfix waits for the whole multi-line greeting, passes, is remembered,
 * and its mail arrives. Needs root, iproute2, postfix and swaks; without them it fails with the reason.
 */
class PostfixPregreetTest {
    static final String SENDER = "127.0.0.50";
    static final Duration WAIT = Duration.ofSeconds(60);
    static JamesInNamespace stack;
    static String NS;
    static Path dir;
    static PostfixInNamespace postfix;
    static JamesProcess james;

    @BeforeAll
    static void start() throws Exception {
        String sensors = "<handler class=\"dev.spamtrap.smtp.ProtocolSensorHandler\"><pregreet><action>refuse</action><wait>3s</wait></pregreet></handler>\n"
            + "            <handler class=\"dev.spamtrap.smtp.TrapRcptHook\">";
        stack = JamesInNamespace.start("postfix-pregreet", "trg", SENDER, 19043, 17001, j -> j
            .refusingAtConnect()
            .edit("smtpserver.xml", s -> s.replace("<handler class=\"dev.spamtrap.smtp.TrapRcptHook\">", sensors)));
        NS = stack.namespace;
        dir = stack.dir;
        james = stack.james();
        postfix = stack.postfix("mta.sender.test", SENDER, "127.0.0.0/8");
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void postfixWaitsForTheFinalGreetingDeliversIsRememberedAndIsNeverListed() {
        for (int i = 1; i <= 2; i++) {
            Netns.Result r = Netns.run(Netns.in(NS, "swaks", "--server", SENDER + ":25", "--local-interface", "127.0.0.60",
                "--from", "friend@sender.test", "--to", "alice@example.com", "--header", "Subject: via-postfix-" + i, "--timeout", "20"));
            assertThat(r.code).as(r.output).isZero();
            int n = i;
            Await.until(WAIT, "Postfix delivered message " + i, () -> postfix.log(),
                l -> l.split("status=sent", -1).length - 1 >= n || l.contains("status=deferred") || l.contains("status=bounced"));
        }
        String log = postfix.log();
        assertThat(log).contains("relay=127.0.0.1[127.0.0.1]:2525").doesNotContain("status=deferred").doesNotContain("status=bounced");
        assertThat(log.split("status=sent", -1).length - 1).isEqualTo(2);
        String listed = Netns.run(Netns.in(NS, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
            "http://127.0.0.1:" + james.webAdminPort() + "/spamtrap/offenders/" + SENDER)).output;
        assertThat(listed).as("Postfix is never listed").isEqualTo("404");
        // the control: a client talking at once is refused by the same server, so Postfix did take the test
        String py = "import socket\ns = socket.socket()\ns.bind(('127.0.0.61', 0))\ns.connect(('127.0.0.1', 2525))\n"
            + "s.sendall(b'EHLO bot\\r\\n')\ns.settimeout(30)\nout = b''\nwhile True:\n    d = s.recv(4096)\n    if not d:\n        break\n"
            + "    out += d\nprint(out.decode())\n";
        Netns.Result bot = Netns.run(Netns.in(NS, "python3", "-c", py));
        assertThat(bot.output).as(bot.output).startsWith("220-").contains("450 4.7.1 Your address 127.0.0.61 has broken the SMTP protocol on this server");
        assertThat(james.log()).contains("Protocol sensors: pregreet refuse").doesNotContain("spamtrap protocol client=\"" + SENDER + "\"");
    }
}
