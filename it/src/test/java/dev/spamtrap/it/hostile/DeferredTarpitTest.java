package dev.spamtrap.it.hostile;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.RealJames;
import dev.spamtrap.it.stack.ImapClient;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample's defaults (tarpit, checkAt=auto, AUTH offered): a listed client is tarpitted from its first
 * unauthenticated MAIL FROM on, while an authenticated session from the same address is not touched.
 */
class DeferredTarpitTest {
    @RegisterExtension
    static final RealJames james = RealJames.named("deferred-tarpit")
        .with(j -> j.edit("smtpserver.xml", s -> s.replace("<delay>10s</delay>", "<delay>1s</delay>")));

    @BeforeAll
    static void start() {
        new WebAdmin(james.webAdminPort()).addUser("alice@example.com", "alice");
    }

    @Test
    void listedClientIsTarpittedFromMailFromAndItsMessageIsRefusedButItsUsersAuthenticateAndSend() {
        // Listed for 48 hours through the administrator's route (a plain CQL row reaches the nodes only at a full load).
        assertThat(new WebAdmin(james.webAdminPort()).request("PUT", "/spamtrap/offenders/127.0.5.1?lifetime=48h", "").statusCode()).isEqualTo(204);
        Await.until(Duration.ofSeconds(30), "offender in the view", () -> {
            try (SmtpClient c = SmtpClient.connect("127.0.5.1", james.smtpPort())) {
                c.reply();
                c.command("EHLO probe.test");
                long t0 = System.nanoTime();
                c.command("MAIL FROM:<probe@sender.test>");
                return (System.nanoTime() - t0) / 1_000_000;
            }
        }, ms -> ms >= 900);

        try (SmtpClient c = SmtpClient.connect("127.0.5.1", james.smtpPort())) {
            assertThat(c.reply()).startsWith("220");
            assertThat(c.command("EHLO bot.test")).contains("AUTH");
            long t0 = System.nanoTime();
            assertThat(c.command("MAIL FROM:<bot@spam.test>")).startsWith("250");
            assertThat((System.nanoTime() - t0) / 1_000_000).as("the MAIL reply is held by the tarpit").isGreaterThanOrEqualTo(900);
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command("Subject: tarpitted-spam\r\n\r\nspam\r\n."))
                .isEqualTo("450 4.7.1 Your address 127.0.5.1 is listed by this server's administrator within the last 2 days");
            assertThat(c.readUntilClosed()).isEmpty();
        }

        String subject = "nat-user-" + System.nanoTime();
        try (SmtpClient c = SmtpClient.connect("127.0.5.1", james.smtpPort())) {
            assertThat(c.reply()).startsWith("220");
            c.command("EHLO user.test");
            String plain = Base64.getEncoder().encodeToString("\0alice@example.com\0alice".getBytes());
            assertThat(c.command("AUTH PLAIN " + plain)).startsWith("235");
            assertThat(c.command("MAIL FROM:<alice@example.com>")).startsWith("250");
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command("Subject: " + subject + "\r\n\r\nhello\r\n.")).startsWith("250");
            c.command("QUIT");
        }
        String inbox = Await.until(Duration.ofSeconds(30), "authenticated mail", () -> ImapClient.inbox(james.imapPort(), "alice@example.com", "alice"),
            s -> s.contains("Subject: " + subject));
        assertThat(inbox).doesNotContain("tarpitted-spam");
        List<String> clean = SmtpClient.deliver("127.0.5.2", james.smtpPort(), "friend@good.test", List.of("alice@example.com"), "clean-neighbour");
        assertThat(clean.get(clean.size() - 2)).startsWith("250");
    }

    @Test
    void aListedClientsFailedAuthIsTarpittedAndAnUnlistedOnesIsNot() {
        WebAdmin web = new WebAdmin(james.webAdminPort());
        assertThat(web.request("PUT", "/spamtrap/offenders/127.0.5.3?lifetime=1h", "").statusCode()).isEqualTo(204);
        String wrong = Base64.getEncoder().encodeToString("\0alice@example.com\0guess".getBytes());
        // unlisted: a wrong password is answered at full speed
        try (SmtpClient c = SmtpClient.connect("127.0.5.4", james.smtpPort())) {
            c.reply();
            c.command("EHLO guesser.test");
            long t0 = System.nanoTime();
            assertThat(c.command("AUTH PLAIN " + wrong)).startsWith("535");
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(900);
        }
        // listed: the 535 and everything after it come a tarpit delay late
        long held = Await.until(Duration.ofSeconds(30), "a listed client's failed AUTH held", () -> {
            try (SmtpClient c = SmtpClient.connect("127.0.5.3", james.smtpPort())) {
                c.reply();
                c.command("EHLO guesser.test");
                long t0 = System.nanoTime();
                String reply = c.command("AUTH PLAIN " + wrong);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertThat(reply).startsWith("535");
                long t1 = System.nanoTime();
                assertThat(c.command("AUTH PLAIN " + wrong)).startsWith("535");
                return Math.min(ms, (System.nanoTime() - t1) / 1_000_000);
            }
        }, ms -> ms >= 900);
        assertThat(held).isGreaterThanOrEqualTo(900);
        // and the right password from the same address still logs in (the NAT'd user)
        try (SmtpClient c = SmtpClient.connect("127.0.5.3", james.smtpPort())) {
            c.reply();
            c.command("EHLO user.test");
            long t0 = System.nanoTime();
            assertThat(c.command("AUTH PLAIN " + Base64.getEncoder().encodeToString("\0alice@example.com\0alice".getBytes()))).startsWith("235");
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(900);
        }
    }
}
