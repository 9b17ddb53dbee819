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
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code mode=reject}: a trap in a served domain gets James's unknown-user reply, one in a domain James does
 * not serve gets James's reply for that domain, and the rest of the connection is still trapped: the
 * co-recipients of the rejected trap and later transactions reach nobody.
 */
class RejectModeProbeTest {
    @RegisterExtension
    static final RealJames james = RealJames.named("reject-probe")
        .with(j -> j.refusingAtConnect().trapMode("reject")
            .edit("traps.txt", s -> s + "\n@traps.remote.test\n"));

    @BeforeAll
    static void start() {
        new WebAdmin(james.webAdminPort()).addUser("alice@example.com", "alice");
    }

    static Object row(String ip) {
        return james.offenderRow("ip", ip);
    }

    @Test
    void repliesAreJamesOwnAndTheRestOfTheConnectionReachesNobody() {
        int port = james.smtpPort();
        assertThat(JamesFixture.rcptReply("127.0.6.1", port, "trap@example.com")).isEqualTo("550 5.1.1 Unknown user: trap@example.com");
        assertThat(JamesFixture.rcptReply("127.0.6.2", port, "someone@traps.remote.test"))
            .isEqualTo(JamesFixture.rcptReply("127.0.6.3", port, "someone@elsewhere.test"));
        Await.until(Duration.ofSeconds(30), "offender rows", () -> row("127.0.6.1") != null && row("127.0.6.2") != null, ok -> ok);
        assertThat(row("127.0.6.3")).isNull();

        try (SmtpClient c = SmtpClient.connect("127.0.6.4", port)) {
            c.reply();
            c.command("EHLO reject.test");
            c.command("MAIL FROM:<bot@spam.test>");
            assertThat(c.command("RCPT TO:<trap@example.com>")).startsWith("550 5.1.1");
            assertThat(c.command("RCPT TO:<nobody-x@example.com>")).isEqualTo("550 5.1.1 Unknown user: nobody-x@example.com");
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command("Subject: reject-co-recipient\r\n\r\nspam\r\n.")).startsWith("250");
            assertThat(c.command("MAIL FROM:<bot@spam.test>")).startsWith("250");
            assertThat(c.command("RCPT TO:<alice@example.com>")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            assertThat(c.command("Subject: reject-second\r\n\r\nspam\r\n.")).startsWith("250");
            c.command("QUIT");
        }
        String subject = "control-" + System.nanoTime();
        List<String> r = SmtpClient.deliver("127.0.6.9", port, "friend@good.test", List.of("alice@example.com"), subject);
        assertThat(r.get(r.size() - 2)).startsWith("250");
        String inbox = Await.until(Duration.ofSeconds(30), "control mail", () -> ImapClient.inbox(james.imapPort(), "alice@example.com", "alice"),
            s -> s.contains("Subject: " + subject));
        assertThat(inbox).doesNotContain("reject-co-recipient").doesNotContain("reject-second");
        WebAdmin webAdmin = new WebAdmin(james.webAdminPort());
        Await.until(Duration.ofSeconds(30), "both quarantined", () -> webAdmin.listMails("var/mail/spamtrap"), keys -> keys.split(",").length == 2);
    }
}
