package dev.spamtrap.it.relay;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.RealJames;
import dev.spamtrap.it.stack.EximProcess;
import dev.spamtrap.it.stack.Ports;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real Exim 4.96 (Debian's) with its default transport relaying legitimate mail to James with the extension:
 * every message reaches the mailbox exactly once, none is deferred, nothing stays queued. Exim sends QUIT with the
 * final dot and half-closes; James 3.8.1 alone then often closes before answering the dot and Exim sends the
 * message again (bench/exim-relay prints plain James beside ours); OffenderConnectHandler keeps such a connection
 * open until James has answered.
 */
class EximRelayTest {
    private static final int MESSAGES = 15;
    @RegisterExtension
    static final RealJames james = RealJames.named("exim-relay");
    private static EximProcess exim;

    @BeforeAll
    static void start() {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
            "Exim is unpacked by it/scripts/provision-exim and runs as nobody: needs root");
        Path binary = EximProcess.provisionedBinary();
        james.webAdmin().addUser("alice@example.com", "alice");
        exim = new EximProcess(binary, ProjectLayout.locate().root().resolve("it/target/exim-relay"),
            "127.0.0.1", Ports.free(), "127.0.0.1", james.smtpPort(), false).start(Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        if (exim != null) {
            exim.close();
        }
    }

    @Test
    void everyRelayedMessageIsDeliveredExactlyOnce() throws InterruptedException {
        for (int i = 1; i <= MESSAGES; i++) {
            List<String> replies = SmtpClient.deliver("127.0.0.71", exim.port(), "friend" + i + "@legit.test",
                List.of("alice@example.com"), "relayed-" + i);
            assertThat(replies.get(replies.size() - 2)).as("Exim's reply to the dot of message %d", i).startsWith("250");
        }
        Await.until(Duration.ofSeconds(60), "Exim done with every message",
            () -> exim.deliveries() + exim.deferrals().size(), n -> n >= MESSAGES);
        exim.runQueue(); // a deferred message would be sent again now: the duplicate this test must not see

        WebAdmin web = james.webAdmin();
        Await.until(Duration.ofSeconds(30), "alice's mailbox", () -> web.messageCount("alice@example.com", "INBOX"), n -> n >= MESSAGES);
        Thread.sleep(2000);
        assertThat(web.messageCount("alice@example.com", "INBOX")).as("copies in alice's INBOX").isEqualTo(MESSAGES);
        assertThat(exim.deferrals()).as("deliveries Exim had to retry").isEmpty();
        assertThat(exim.deliveries()).isEqualTo(MESSAGES);
        assertThat(exim.queued()).as("messages left in Exim's queue").isZero();
    }
}
