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

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Malformed SMTP at the spamtrap hooks of a real James: overlong lines, bare LF and CR, NUL, 8-bit bytes,
 * broken addresses, odd IPv6 spellings, random mixes of them. No exception escapes our code, nobody who did
 * not send to a trap is recorded or refused, and clean mail still flows.
 */
class MalformedSmtpFuzzTest {
    @RegisterExtension
    static final RealJames james = RealJames.named("fuzz")
        .with(j -> j.offenderMode("refuse"));

    /** Fragments a hostile client sends; none of them is a well-formed trap recipient. */
    static final List<byte[]> FRAGMENTS = List.of(
        b("EHLO fuzz.test\r\n"), b("HELO [IPv6:::ffff:127.0.0.2]\r\n"), b("EHLO \u00ff\u00fe\u0000\r\n"),
        b("MAIL FROM:<bot@spam.test>\r\n"), b("MAIL FROM:<a@[IPv6:zz::1]>\r\n"), b("MAIL FROM:<>\r\n"), b("MAIL FROM:bot@spam.test\r\n"),
        b("RCPT TO:<>\r\n"), b("RCPT TO:<@>\r\n"), b("RCPT TO:<trap@>\r\n"), b("RCPT TO:<@example.com>\r\n"), b("RCPT TO:<tr\u0000ap@example.com>\r\n"),
        b("RCPT TO:<x@[IPv6:::1]>\r\n"), b("RCPT TO:<x@[IPv6:0:0:0:0:0:ffff:127.0.0.1]>\r\n"), b("RCPT TO:<x@[::1]>\r\n"),
        b("RCPT TO:<x@[IPv6:2001:db8::1%eth0]>\r\n"), b("RCPT TO:<x@[IPv6:1:2:3:4:5:6:7:8:9]>\r\n"), b("RCPT TO:<x@[300.1.1.1]>\r\n"),
        b("RCPT TO:<nobody@example.com\r\n"), b("RCPT TO:<<alice@example.com>>\r\n"), b("RCPT TO:<\"a b\"@example.com>\r\n"),
        b("RCPT TO:<alice@example.com> SIZE=-1 BODY=\u00ff\r\n"), b("RCPT TO:<x@example.com>\nRCPT TO:<y@example.com>\n"),
        b("RCPT TO:<x@example.com>\rNOOP\r\n"), b("RCPT\r\n"), b("RCPT TO:\r\n"), b("DATA\r\n"), b("RSET\r\n"), b("NOOP \u0000\u0001\u0002\r\n"),
        "RCPT TO:<tr\u00e4p@example.com>\r\n".getBytes(StandardCharsets.UTF_8), b("RCPT TO:<tr\u00e4p@example.com>\r\n"),
        ("RCPT TO:<" + "x".repeat(20_000) + "@example.com>\r\n").getBytes(StandardCharsets.US_ASCII),
        ("A".repeat(12_000) + "\r\n").getBytes(StandardCharsets.US_ASCII), b("\r\n"), b("\n"), b("\r"), b(".\r\n"), b("STARTTLS\r\n"));

    static byte[] b(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    @BeforeAll
    static void start() {
        new WebAdmin(james.webAdminPort()).addUser("alice@example.com", "alice");
    }

    /** Sends the bytes in one write, reads whatever comes back for a while, closes. */
    static void session(String ip, byte[] bytes) {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(ip, 0));
            s.connect(new InetSocketAddress("127.0.0.1", james.smtpPort()), 5000);
            s.setSoTimeout(1500);
            OutputStream out = s.getOutputStream();
            out.write(bytes);
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            try {
                while (in.read(buf) >= 0) {
                    // drain until the server goes quiet or closes
                }
            } catch (IOException quiet) {
                // timeout: the server waits for more
            }
        } catch (IOException e) {
            // a reset is a valid answer to garbage
        }
    }

    @Test
    void malformedSmtpRecordsNobodyRefusesNobodyAndCleanMailStillFlows() {
        Set<String> fuzzers = new TreeSet<>();
        // each fragment alone, after a valid greeting sequence
        for (int i = 0; i < FRAGMENTS.size(); i++) {
            String ip = "127.0.3." + (i + 1);
            fuzzers.add(ip);
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.writeBytes(FRAGMENTS.get(0));
            b.writeBytes(FRAGMENTS.get(3));
            b.writeBytes(FRAGMENTS.get(i));
            b.writeBytes(b("QUIT\r\n"));
            session(ip, b.toByteArray());
        }
        // random mixes, seeded so a failure can be replayed
        Random random = new Random(8);
        for (int n = 0; n < 60; n++) {
            String ip = "127.0.4." + (n + 1);
            fuzzers.add(ip);
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int k = 0, len = 3 + random.nextInt(10); k < len; k++) {
                byte[] f = FRAGMENTS.get(random.nextInt(FRAGMENTS.size())).clone();
                if (random.nextInt(4) == 0 && f.length > 2) {
                    f[random.nextInt(f.length)] = (byte) random.nextInt(256);
                }
                b.writeBytes(f);
            }
            session(ip, b.toByteArray());
        }

        // positive control: a real hit after all that is recorded (the spool drains in order)
        assertThat(JamesFixture.rcptReply("127.0.3.250", james.smtpPort(), "trap@example.com")).startsWith("250");
        Await.until(Duration.ofSeconds(30), "control offender row", () -> SharedCassandra.cql()
            .execute("SELECT ip FROM " + james.keyspace() + ".offenders WHERE ip = '127.0.3.250'").one(), r -> r != null);
        List<String> recorded = new ArrayList<>();
        for (Row r : SharedCassandra.cql().execute("SELECT DISTINCT ip FROM " + james.keyspace() + ".offenders")) {
            recorded.add(r.getString("ip"));
        }
        assertThat(recorded).containsExactly("127.0.3.250");

        for (String ip : fuzzers) {
            try (SmtpClient c = SmtpClient.connect(ip, james.smtpPort())) {
                assertThat(c.reply()).as(ip).startsWith("220");
                c.command("EHLO again.test");
                assertThat(c.command("MAIL FROM:<someone@good.test>")).as(ip + " is not refused").startsWith("250");
                c.command("QUIT");
            }
        }
        String subject = "clean-after-fuzz-" + System.nanoTime();
        List<String> replies = SmtpClient.deliver("127.0.3.251", james.smtpPort(), "friend@good.test", List.of("alice@example.com"), subject);
        assertThat(replies.get(replies.size() - 2)).startsWith("250");
        Await.until(Duration.ofSeconds(30), "clean mail", () -> ImapClient.inbox(james.imapPort(), "alice@example.com", "alice"),
            s -> s.contains("Subject: " + subject));
        assertThat(james.log()).as("no exception escapes the spamtrap code").doesNotContain("at dev.spamtrap.");
    }
}
