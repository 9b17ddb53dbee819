package dev.spamtrap.it.stack;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The README's "run it" command: a local Cassandra (data in run/cassandra), James with the drop-in jar and
 * the sample conf (run/james), and the firewall agent in dry-run (log) mode. Stays in the foreground until
 * Ctrl-C, then stops everything it started.
 */
public final class Demo {
    static final int AGENT_PORT = 7625;

    public static void main(String[] args) throws Exception {
        ProjectLayout layout = ProjectLayout.locate();
        Path run = layout.root().resolve("run");
        System.out.println("Starting Cassandra (data in " + run.resolve("cassandra") + ") ...");
        CassandraProcess cassandra = new CassandraProcess(run.resolve("cassandra"), 9042, 7000).start(Duration.ofSeconds(120));
        AgentProcess agent = new AgentProcess(run.resolve("agent")).ensureKey();
        JamesProcess james = new JamesProcess(run.resolve("james")).cassandra(cassandra.contactPoint())
            .spamtrapProperty("firewall.agent", "tcp:127.0.0.1:" + AGENT_PORT)
            .spamtrapProperty("firewall.keyFile", agent.keyFile().toString())
            .prepare();
        System.out.println("Starting the firewall agent in dry-run mode (backend = log; log " + agent.logFile() + ") ...");
        agent.configure(Map.of("backend", "log", "ports", "2525", "listen.tcp", "127.0.0.1:" + AGENT_PORT,
                "reconcile.spamtrapConfig", james.conf().resolve("spamtrap.properties").toString()))
            .start("127.0.0.1", AGENT_PORT, Duration.ofSeconds(60));
        System.out.println("Starting James (root " + james.root() + ", log " + james.root().resolve("james.log") + ") ...");
        james.start(Duration.ofSeconds(180));
        WebAdmin webAdmin = new WebAdmin(james.webAdminPort());
        webAdmin.addUser("alice@example.com", "alice");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("Stopping ...");
            james.close();
            agent.close();
            cassandra.close();
            System.out.println("Stopped.");
        }, "demo-stop"));
        System.out.println("james-spamtrap demo ready: SMTP 127.0.0.1:" + james.smtpPort() + ", IMAP 127.0.0.1:" + james.imapPort()
            + ", WebAdmin http://127.0.0.1:" + james.webAdminPort() + ", Cassandra " + cassandra.contactPoint()
            + " (user alice@example.com / alice; Ctrl-C to stop)");
        String admin = "http://127.0.0.1:" + james.webAdminPort();
        System.out.println("Try (see docs/admin.md):");
        System.out.println("  curl " + admin + "/spamtrap/status                # health: store, spool, view, agent");
        System.out.println("  curl " + admin + "/spamtrap/offenders             # who is listed, until when");
        System.out.println("  curl -X DELETE " + admin + "/spamtrap/offenders/127.0.0.2   # forgive an offender at once");
        while (james.isRunning() && cassandra.isRunning() && agent.isRunning()) {
            Thread.sleep(1000);
        }
        System.out.println(!james.isRunning() ? "James exited; see " + james.root().resolve("james.log")
            : !agent.isRunning() ? "The agent exited; see " + agent.logFile() : "Cassandra exited; see " + cassandra.dir().resolve("logs"));
        System.exit(1);
    }
}
