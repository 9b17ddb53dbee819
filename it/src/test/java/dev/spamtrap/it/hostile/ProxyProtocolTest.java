package dev.spamtrap.it.hostile;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.RealJames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Behind a PROXY-protocol load balancer ({@code proxyRequired}) every decision uses the address the PROXY
 * header gives, not the proxy's (127.0.0.1, which is even relay-authorized here), with v1 and v2 headers.
 */
class ProxyProtocolTest {
    @RegisterExtension
    static final RealJames james = RealJames.named("proxy")
        .with(j -> j.offenderMode("refuse")
            .edit("smtpserver.xml", s -> s.replace("<jmxName>smtpserver-global</jmxName>", "<jmxName>smtpserver-global</jmxName>\n        <proxyRequired>true</proxyRequired>")));

    static byte[] v1(String client) {
        return ("PROXY TCP4 " + client + " 127.0.0.1 40000 25\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] v2(String client) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        b.write(0x21); // version 2, PROXY
        b.write(0x11); // TCP over IPv4
        b.write(0x00);
        b.write(12);
        b.write(InetAddress.getByName(client).getAddress());
        b.write(InetAddress.getByName("127.0.0.1").getAddress());
        b.write(new byte[] {(byte) 0x9c, 0x40, 0x00, 0x19});
        return b.toByteArray();
    }

    /** Through the "proxy" (127.0.0.1): header, EHLO, MAIL, then the RCPT if given. Returns the last reply. */
    static String session(byte[] header, String rcpt) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            s.connect(new InetSocketAddress("127.0.0.1", james.smtpPort()), 5000);
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(header);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            assertThat(reply(in)).startsWith("220");
            out.write("EHLO proxied.test\r\n".getBytes(StandardCharsets.US_ASCII));
            reply(in);
            out.write("MAIL FROM:<bot@spam.test>\r\n".getBytes(StandardCharsets.US_ASCII));
            String mail = reply(in);
            if (rcpt == null || !mail.startsWith("250")) {
                return mail;
            }
            out.write(("RCPT TO:<" + rcpt + ">\r\nQUIT\r\n").getBytes(StandardCharsets.US_ASCII));
            return reply(in);
        }
    }

    static String reply(BufferedReader in) throws Exception {
        String line;
        StringBuilder sb = new StringBuilder();
        while ((line = in.readLine()) != null) {
            sb.append(sb.length() == 0 ? "" : "\n").append(line);
            if (line.length() < 4 || line.charAt(3) != '-') {
                break;
            }
        }
        return sb.toString();
    }

    static Object row(String ip) {
        return james.offenderRow("ip", ip);
    }

    @Test
    void proxyV1NamedClientIsRecordedAndRefused() throws Exception {
        assertThat(session(v1("203.0.113.7"), "trap@example.com")).startsWith("250 2.1.5");
        Await.until(Duration.ofSeconds(30), "offender row", () -> row("203.0.113.7"), r -> r != null);
        assertThat(row("127.0.0.1")).isNull();
        assertThat(session(v1("203.0.113.7"), null))
            .isEqualTo("450 4.7.1 Your address 203.0.113.7 has sent mail to a spamtrap on this server within the last 24 hours");
        assertThat(session(v1("203.0.113.8"), null)).as("another client through the same proxy").startsWith("250");
    }

    @Test
    void proxyV2NamedClientIsRecordedAndRefused() throws Exception {
        assertThat(session(v2("198.51.100.9"), "trap@example.com")).startsWith("250 2.1.5");
        Await.until(Duration.ofSeconds(30), "offender row", () -> row("198.51.100.9"), r -> r != null);
        assertThat(row("127.0.0.1")).isNull();
        assertThat(session(v2("198.51.100.9"), null)).startsWith("450 4.7.1 Your address 198.51.100.9 ");
        assertThat(session(v2("198.51.100.10"), null)).startsWith("250");
    }
}
