package dev.spamtrap.it.tarpit;

import dev.spamtrap.it.RealJames;
import dev.spamtrap.it.bench.TarpitConf;
import dev.spamtrap.it.stack.SmtpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two real James servers on the suite's Cassandra (own keyspaces): one in stutter mode, one in {@code refuse} mode (refusing at once,
 * as before the tarpit existed).
 */
class TarpitStutterAndRefuseModeTest {
    @RegisterExtension
    static final RealJames stutter = RealJames.named("tarpit-stutter")
        .with(j -> j.offenderCheckAt("connect")
            .edit("jvm.properties", TarpitConf::withoutReverseDnsInLogContext)
            .edit("smtpserver.xml", xml -> {
                String s = TarpitConf.mode(xml, "tarpit");
                s = TarpitConf.tarpit(s, "delay", "1s");
                s = TarpitConf.tarpit(s, "stutter", "true");
                s = TarpitConf.tarpit(s, "stutterBytes", "4");
                return TarpitConf.tarpit(s, "stutterInterval", "200ms");
            }));
    @RegisterExtension
    static final RealJames refuse = RealJames.named("tarpit-refuse")
        .with(j -> j.offenderCheckAt("connect")
            .edit("jvm.properties", TarpitConf::withoutReverseDnsInLogContext)
            .edit("smtpserver.xml", xml -> TarpitConf.mode(xml, "refuse")));

    private static void makeOffender(String ip, int port) {
        try (SmtpClient c = SmtpClient.connect(ip, port)) {
            assertThat(c.reply()).startsWith("220");
            c.command("EHLO offender.test");
            c.command("MAIL FROM:<spammer@offender.test>");
            assertThat(c.command("RCPT TO:<trap@example.com>")).startsWith("250");
            c.command("QUIT");
        }
    }

    @Test
    void stutterWritesTheGreetingAFewBytesAtATimeAfterTheDelay() throws IOException {
        makeOffender("127.0.0.40", stutter.smtpPort());
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.40"), 0));
            long t = System.nanoTime();
            s.connect(new InetSocketAddress("127.0.0.1", stutter.smtpPort()), 5000);
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            List<Long> chunkAt = new ArrayList<>();
            List<Integer> chunkSize = new ArrayList<>();
            StringBuilder text = new StringBuilder();
            byte[] buf = new byte[256];
            while (text.indexOf("\n") < 0) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                chunkAt.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t));
                chunkSize.add(n);
                text.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
            }
            // "220 mail.example.com ESMTP ready\r\n": 34 bytes = 9 chunks of at most 4, 200 ms apart, after 1 s
            assertThat(text.toString()).isEqualTo("220 mail.example.com ESMTP ready\r\n");
            assertThat(chunkAt.get(0)).as("first byte (ms)").isGreaterThanOrEqualTo(950);
            assertThat(chunkSize).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(4));
            assertThat(chunkSize.size()).isGreaterThanOrEqualTo(5);
            assertThat(chunkAt.get(chunkAt.size() - 1)).as("last byte (ms)").isGreaterThanOrEqualTo(950 + 8 * 200 - 50);
        }
    }

    @Test
    void refuseModeStillRefusesAtOnceAndCloses() {
        makeOffender("127.0.0.41", refuse.smtpPort());
        long t = System.nanoTime();
        try (SmtpClient c = SmtpClient.connect("127.0.0.41", refuse.smtpPort())) {
            String r = c.reply();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t)).isLessThan(1000);
            assertThat(r).startsWith("450 4.7.1 Your address 127.0.0.41 ");
            assertThat(c.readUntilClosed()).isEmpty();
        }
    }
}
