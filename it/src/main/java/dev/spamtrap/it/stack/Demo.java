package dev.spamtrap.it.stack;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The README's "run it" command: a local Cassandra (data in run/cassandra), James with the drop-in jar and
 * the sample conf (run/james), and the firewall agent in dry-run (log) mode. Stays in the foreground until
 * Ctrl-C, then stops everything it started.
 */
public final class Demo {
    public static void main(String[] args) throws Exception {
        ProjectLayout layout = ProjectLayout.locate();
        Path run = layout.root().resolve("run");
        System.out.println("Starting Cassandra (data in " + run.resolve("cassandra") + ") ...");
        CassandraProcess cassandra = new CassandraProcess(run.resolve("cassandra"), 9042, 7000).start(Duration.ofSeconds(120));
        System.out.println("Starting James (root " + run.resolve("james") + ", log " + run.resolve("james/james.log") + ") ...");
        JamesProcess james = new JamesProcess(run.resolve("james")).cassandra(cassandra.contactPoint()).prepare().start(Duration.ofSeconds(180));
        WebAdmin webAdmin = new WebAdmin(james.webAdminPort());
        webAdmin.addUser("alice@example.com", "alice");
        AutoCloseable agent = DemoAgent.start(layout, run, cassandra.contactPoint());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("Stopping ...");
            try {
                agent.close();
            } catch (Exception ignored) {
                // stopping anyway
            }
            james.close();
            cassandra.close();
            System.out.println("Stopped.");
        }, "demo-stop"));
        System.out.println("james-spamtrap demo ready: SMTP 127.0.0.1:" + james.smtpPort() + ", IMAP 127.0.0.1:" + james.imapPort()
            + ", WebAdmin http://127.0.0.1:" + james.webAdminPort() + ", Cassandra " + cassandra.contactPoint()
            + " (user alice@example.com / alice; Ctrl-C to stop)");
        while (james.isRunning() && cassandra.isRunning()) {
            Thread.sleep(1000);
        }
        System.out.println(james.isRunning() ? "Cassandra exited; see " + cassandra.dir().resolve("logs") : "James exited; see " + james.root().resolve("james.log"));
        System.exit(1);
    }
}
