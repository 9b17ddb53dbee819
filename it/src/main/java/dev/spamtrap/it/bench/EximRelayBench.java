package dev.spamtrap.it.bench;

import dev.spamtrap.it.stack.CassandraProcess;
import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.EximProcess;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.Ports;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Whether James loses the reply to the final dot when a real Exim relays to it, and whose fault that is:
 * plain James 3.8.1 and James with the extension, each behind an Exim with its default transport (QUIT sent
 * with the final dot) and with {@code hosts_avoid_pipelining = *} (docs/deploy.md). Each message is sent to
 * Exim, Exim's queue is then forced, and alice's copies are counted: a deferral after the dot is a duplicate.
 */
public final class EximRelayBench {
    private EximRelayBench() {
    }

    public static void main(String[] args) throws Exception {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        Path binary = EximProcess.provisionedBinary();
        Path dir = ProjectLayout.locate().root().resolve("it/target/bench-exim-relay");
        Dirs.deleteRecursively(dir);
        System.out.printf("Exim 4.96 relaying %d messages, one at a time, to James 3.8.1; then exim -qff (retries now)%n%n", messages);
        System.out.println("| James                 | Exim transport                | messages | deferred after the dot | copies in the mailbox | duplicates |");
        System.out.println("|-----------------------|-------------------------------|----------|------------------------|-----------------------|------------|");
        try (CassandraProcess cassandra = new CassandraProcess(dir.resolve("cassandra"), Ports.free(), Ports.free()).start(Duration.ofSeconds(180));
             JamesProcess plain = new JamesProcess(dir.resolve("james-plain")).randomPorts().withoutExtension().prepare();
             JamesProcess spamtrap = new JamesProcess(dir.resolve("james-spamtrap")).randomPorts().cassandra(cassandra.contactPoint()).prepare()) {
            plain.start(Duration.ofSeconds(180));
            spamtrap.start(Duration.ofSeconds(180));
            for (JamesProcess james : List.of(plain, spamtrap)) {
                WebAdmin web = new WebAdmin(james.webAdminPort());
                web.addUser("alice@example.com", "alice");
                for (boolean avoidPipelining : List.of(false, true)) {
                    long before = web.messageCount("alice@example.com", "INBOX");
                    try (EximProcess exim = new EximProcess(binary, dir.resolve("exim"), "127.0.0.1", Ports.free(), "127.0.0.1",
                        james.smtpPort(), avoidPipelining).start(Duration.ofSeconds(30))) {
                        for (int i = 1; i <= messages; i++) {
                            SmtpClient.deliver("127.0.0.71", exim.port(), "friend" + i + "@legit.test", List.of("alice@example.com"), "relayed-" + i);
                        }
                        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                        while (exim.deliveries() + exim.deferrals().size() < messages && System.nanoTime() < deadline) {
                            Thread.sleep(200);
                        }
                        int deferred = exim.deferrals().size();
                        exim.runQueue();
                        Thread.sleep(3000);
                        long copies = web.messageCount("alice@example.com", "INBOX") - before;
                        System.out.printf("| %-21s | %-29s | %8d | %22d | %21d | %10d |%n",
                            james == plain ? "plain 3.8.1" : "3.8.1 + spamtrap",
                            avoidPipelining ? "hosts_avoid_pipelining = *" : "default (QUIT with the dot)",
                            messages, deferred, copies, copies - messages);
                    }
                }
            }
        }
    }
}
