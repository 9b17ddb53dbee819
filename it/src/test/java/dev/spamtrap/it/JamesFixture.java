package dev.spamtrap.it;

import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.SmtpClient;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Shortcuts shared by the integration tests. */
public final class JamesFixture {
    public static final Duration START = Duration.ofSeconds(180);

    private JamesFixture() {
    }

    /**
     * A James root under it/target, wiped, with random ports, the shared Cassandra, its own keyspace and the shipped
     * sample configuration (a test that wants another says so, e.g. {@link JamesProcess#refusingAtConnect()}).
     */
    public static JamesProcess james(String name, String keyspace) {
        Path root = ProjectLayout.locate().root().resolve("it/target/james-" + name);
        Dirs.deleteRecursively(root);
        // Each run starts from an empty keyspace (the test Cassandra keeps its data between runs).
        SharedCassandra.cql().execute(com.datastax.oss.driver.api.core.cql.SimpleStatement
            .newInstance("DROP KEYSPACE IF EXISTS " + keyspace).setTimeout(Duration.ofSeconds(60)));
        return new JamesProcess(root).randomPorts()
            .cassandra(SharedCassandra.get().contactPoint())
            .spamtrapProperty("cassandra.keyspace", keyspace)
            .spamtrapProperty("node.name", "it-" + name)
            .spamtrapProperty("refresh.interval", "1s")
            .spamtrapProperty("retry.interval", "1s");
    }

    /** The whole answer to a new connection when the server closes it at once (e.g. a refusal). */
    public static List<String> connectionAnswer(String localAddress, int port) {
        try (SmtpClient c = new SmtpClient(localAddress, port, 10_000)) {
            String first = c.reply();
            if (first != null && first.startsWith("220")) {
                c.command("QUIT");
                return List.of(first);
            }
            List<String> all = new java.util.ArrayList<>();
            if (first != null) {
                all.add(first);
            }
            all.addAll(c.readUntilClosed());
            return all;
        }
    }

    /** Opens a session and sends one RCPT after EHLO and MAIL; returns the RCPT reply. */
    public static String rcptReply(String localAddress, int port, String rcpt) {
        try (SmtpClient c = SmtpClient.connect(localAddress, port)) {
            String greeting = c.reply();
            if (greeting == null || !greeting.startsWith("220")) {
                return "no session: " + greeting;
            }
            c.command("EHLO probe.test");
            c.command("MAIL FROM:<probe@sender.test>");
            String reply = c.command("RCPT TO:<" + rcpt + ">");
            c.command("QUIT");
            return reply;
        }
    }
}
