package dev.spamtrap.it.relay;

import dev.spamtrap.it.firewall.Netns;
import dev.spamtrap.it.stack.CassandraProcess;
import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.ProjectLayout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A network namespace of a test's own with a real Cassandra and a real James (SMTP on 127.0.0.1:2525, WebAdmin user
 * alice@example.com) inside, and one more loopback address for the mail server that talks to James from there (a
 * backup MX, an outside sender). Needs root and iproute2; without them the test fails with the reason, never skips.
 */
final class JamesInNamespace implements AutoCloseable {
    static final int SMTP_PORT = 2525;
    private static final Duration START = Duration.ofSeconds(240);

    final String namespace;
    final List<String> inNamespace;
    final Path dir;
    private CassandraProcess cassandra;
    private JamesProcess james;
    private PostfixInNamespace postfix;

    private JamesInNamespace(String name, String namespacePrefix) {
        this.namespace = namespacePrefix + ProcessHandle.current().pid() % 100000;
        this.inNamespace = List.of("ip", "netns", "exec", namespace);
        this.dir = ProjectLayout.locate().root().resolve("it/target").resolve(name);
    }

    /**
     * Starts the namespace (with {@code address} on its loopback), then Cassandra on {@code cqlPort}/{@code storagePort}
     * and James with keyspace and node name {@code name} (underscores for dashes in the keyspace), as {@code configure}
     * sets it beyond that.
     */
    static JamesInNamespace start(String name, String namespacePrefix, String address, int cqlPort, int storagePort,
                                  UnaryOperator<JamesProcess> configure) throws Exception {
        assertThat(Netns.whyNot()).as("network namespaces").isNull();
        JamesInNamespace stack = new JamesInNamespace(name, namespacePrefix);
        Dirs.deleteRecursively(stack.dir);
        Netns.must("ip", "netns", "add", stack.namespace);
        Netns.inMust(stack.namespace, "ip", "link", "set", "lo", "up");
        // the mail server in front of James listens and sends only on an interface address
        Netns.inMust(stack.namespace, "ip", "addr", "add", address + "/8", "dev", "lo");
        stack.cassandra = new CassandraProcess(stack.dir.resolve("cassandra"), cqlPort, storagePort).prefix(stack.inNamespace).start(START);
        stack.james = configure.apply(new JamesProcess(stack.dir.resolve("james")).prefix(stack.inNamespace).randomPorts().smtpPort(SMTP_PORT)
                .cassandra("127.0.0.1:" + cqlPort)
                .spamtrapProperty("cassandra.keyspace", "it_" + name.replace('-', '_'))
                .spamtrapProperty("node.name", "it-" + name))
            .prepare()
            .start(START);
        stack.addUser("alice@example.com", "alice");
        return stack;
    }

    JamesProcess james() {
        return james;
    }

    /** Starts the system's Postfix in the namespace as {@code hostname} on {@code address}; stopped by {@link #close}. */
    PostfixInNamespace postfix(String hostname, String address, String mynetworks) throws java.io.IOException {
        PostfixInNamespace.checkInstalled();
        postfix = new PostfixInNamespace(namespace, dir.resolve("postfix")).start(hostname, address, mynetworks);
        return postfix;
    }

    /** Runs {@code command} inside the namespace. */
    Netns.Result run(String... command) {
        return Netns.run(Netns.in(namespace, command));
    }

    private void addUser(String user, String password) {
        Netns.Result r = run("curl", "-s", "-w", " %{http_code}", "-X", "PUT", "-H", "Content-Type: application/json",
            "--data-binary", "{\"password\":\"" + password + "\"}", "http://127.0.0.1:" + james.webAdminPort() + "/users/" + user);
        assertThat(r.output).as("PUT /users/" + user).endsWith("204");
    }

    @Override
    public void close() throws Exception {
        if (postfix != null) {
            postfix.close();
        }
        if (james != null) {
            james.close();
        }
        if (cassandra != null) {
            cassandra.close();
        }
        Netns.run(List.of("ip", "netns", "delete", namespace));
        Path etc = Path.of("/etc/netns", namespace);
        if (Files.exists(etc)) {
            Dirs.deleteRecursively(etc);
        }
    }
}
