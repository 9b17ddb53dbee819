package dev.spamtrap.it.cluster;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import dev.spamtrap.it.stack.CassandraProcess;
import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.Ports;
import dev.spamtrap.it.stack.ProjectLayout;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Three Cassandra nodes on 127.0.0.11-13 (same ports, one token each, keyspace replication 3) and two James
 * nodes sharing them, B's clock 10 s behind A's (libfaketime). Each node's data stays in it/target/cluster, so a killed node restarts with it.
 */
final class ClusterStack implements AutoCloseable {
    static final String KS = "it_cluster";
    static final Duration START = Duration.ofSeconds(240);
    /** Debian's libfaketime (package faketime), preloaded through env so the JVM keeps its own PID (kill signals reach it). */
    static final String LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
    /** James B's clock offset. */
    static final String B_CLOCK = "-10s";

    final List<CassandraProcess> cassandra = new ArrayList<>();
    final JamesProcess jamesA;
    final JamesProcess jamesB;
    final int nativePort;
    private CqlSession cql;

    ClusterStack() {
        Path base = ProjectLayout.locate().root().resolve("it/target/cluster");
        Dirs.deleteRecursively(base);
        nativePort = Ports.free();
        int storagePort = Ports.free();
        List<String> tokens = CassandraProcess.tokens(3);
        String seeds = "127.0.0.11:" + storagePort;
        for (int i = 0; i < 3; i++) {
            cassandra.add(new CassandraProcess(base.resolve("c" + (i + 1)), nativePort, storagePort)
                .clusterNode("127.0.0." + (11 + i), seeds, tokens.get(i)).heap("384M"));
        }
        String contactPoints = cassandra.stream().map(CassandraProcess::contactPoint).collect(Collectors.joining(","));
        jamesA = james(base, "a", contactPoints);
        // B's whole JVM (its hits, its driver's write timestamps) runs 10 s behind A: nothing may depend on clocks agreeing
        jamesB = james(base, "b", contactPoints).prefix(List.of("env", "LD_PRELOAD=" + LIBFAKETIME, "FAKETIME=" + B_CLOCK,
            "FAKETIME_DONT_FAKE_MONOTONIC=1", "FAKETIME_FORCE_MONOTONIC_FIX=0"));
    }

    private static JamesProcess james(Path base, String name, String contactPoints) {
        return new JamesProcess(base.resolve("james-" + name)).randomPorts()
            .cassandra(contactPoints)
            // refused at connect (the sample decides at MAIL FROM where AUTH is offered)
            .edit("smtpserver.xml", s -> s.replace("<mode>tarpit</mode>", "<mode>refuse</mode>")
                .replace("<checkAt>auto</checkAt>", "<checkAt>connect</checkAt>"))
            .spamtrapProperty("cassandra.keyspace", KS)
            .spamtrapProperty("cassandra.replication", "datacenter1:3")
            .spamtrapProperty("cassandra.requestTimeout", "3s")
            .spamtrapProperty("node.name", "it-cluster-" + name)
            .spamtrapProperty("sync.interval", "500ms")
            .spamtrapProperty("retry.interval", "1s");
    }

    ClusterStack start() {
        for (CassandraProcess c : cassandra) {
            // one at a time: each joins the ring through the seed
            c.start(START);
        }
        jamesA.prepare().start(START);
        jamesB.prepare().start(START);
        // the flood's co-recipient is a real mailbox on both nodes (it gets its true reply, not the trap's)
        new dev.spamtrap.it.stack.WebAdmin(jamesA.webAdminPort()).addUser("alice@example.com", "alice");
        new dev.spamtrap.it.stack.WebAdmin(jamesB.webAdminPort()).addUser("alice@example.com", "alice");
        return this;
    }

    synchronized CqlSession cql() {
        if (cql == null) {
            CqlSession.builder();
            cql = CqlSession.builder()
                .withConfigLoader(DriverConfigLoader.programmaticBuilder()
                    .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(20))
                    .withString(DefaultDriverOption.REQUEST_CONSISTENCY, "LOCAL_QUORUM")
                    .build())
                .addContactPoints(cassandra.stream().map(c -> new InetSocketAddress(c.address(), nativePort)).collect(Collectors.toList()))
                .withLocalDatacenter("datacenter1").build();
        }
        return cql;
    }

    @Override
    public void close() {
        if (cql != null) {
            cql.close();
        }
        jamesA.close();
        jamesB.close();
        for (CassandraProcess c : cassandra) {
            c.close();
        }
    }
}
