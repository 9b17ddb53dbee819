package dev.spamtrap.it.firewall;

import dev.spamtrap.agent.Agent;
import dev.spamtrap.agent.AgentConfig;
import dev.spamtrap.agent.apply.RebuildReport;
import dev.spamtrap.agent.backend.CommandRunner;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.store.CassandraOffenderStore;
import dev.spamtrap.core.store.CassandraSettings;
import dev.spamtrap.it.SharedCassandra;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent's start-up rebuild reads the offenders James recorded in a real Cassandra (forked process) and
 * rebuilds its nftables sets from them in one transaction; a restart after more offenders were recorded
 * (commands lost while the agent was down) rebuilds again. The nft scripts are recorded, not run: the packet
 * level is covered by the agent module's namespace test. The recorder cannot list sets, so the agent cannot read
 * the kernel back and rebuilds whole from the store (the fall-back; with real nft it applies the difference).
 */
class AgentCassandraRebuildTest {
    /** A keyspace of its own per run: the shared Cassandra's data (it/target/it-cassandra) outlives a run. */
    private static final String KEYSPACE = "fw_rebuild_" + Long.toHexString(System.currentTimeMillis());

    @TempDir
    Path dir;

    static final class Recorder implements CommandRunner {
        final List<String> scripts = new CopyOnWriteArrayList<>();

        @Override
        public Result run(List<String> argv, byte[] stdin, Duration timeout) {
            if (stdin == null) {
                return new Result(1, "Error: Could not process rule: File exists"); // the presence probe: "the table is there"
            }
            scripts.add(new String(stdin, StandardCharsets.US_ASCII));
            return new Result(0, "");
        }

        String last() {
            return scripts.get(scripts.size() - 1);
        }
    }

    @Test
    void agentRebuildsItsSetsFromCassandraAtEveryStart() throws Exception {
        String contact = SharedCassandra.get().contactPoint();
        OffenderPolicy policy = new OffenderPolicy(Duration.ofHours(1), Duration.ofDays(1), Duration.ofDays(2));
        CassandraSettings settings = new CassandraSettings(List.of(new InetSocketAddress("127.0.0.1", SharedCassandra.get().nativePort())),
            "datacenter1", KEYSPACE, 1, Duration.ofSeconds(10), Optional.empty(), Optional.empty());
        try (CassandraOffenderStore james = new CassandraOffenderStore(settings, policy, Clock.systemUTC())) {
            james.connect();
            Instant now = Instant.now();
            james.record(new TrapHit("192.0.2.10", now, "trap@example.org", "helo", "a@example.net", "node1")).toCompletableFuture().get(30, TimeUnit.SECONDS);
            james.record(new TrapHit("2001:db8::10", now, "trap@example.org", "helo", "a@example.net", "node1")).toCompletableFuture().get(30, TimeUnit.SECONDS);
            james.record(new TrapHit("127.0.0.1", now, "trap@example.org", "helo", "a@example.net", "node1")).toCompletableFuture().get(30, TimeUnit.SECONDS);

            Path key = dir.resolve("agent.key");
            byte[] k = new byte[32];
            new java.security.SecureRandom().nextBytes(k);
            Files.writeString(key, Base64.getEncoder().encodeToString(k) + "\n");
            Files.writeString(dir.resolve("spamtrap.properties"), "cassandra.contactPoints = " + contact + "\ncassandra.keyspace = " + KEYSPACE
                + "\noffender.lifetime = 1h\noffender.maxLifetime = 1d\n");
            Files.writeString(dir.resolve("agent.properties"), "key.file = agent.key\nlisten.tcp = 127.0.0.1:0\nbackend = nftables\n"
                + "reconcile.source = cassandra\nreconcile.spamtrapConfig = spamtrap.properties\nreconcile.interval = 1h\n");
            AgentConfig config = AgentConfig.load(dir.resolve("agent.properties"));

            Recorder first = new Recorder();
            try (Agent agent = new Agent.Builder(config).runner(first).build().start()) {
                RebuildReport report = agent.startupRebuild().get(60, TimeUnit.SECONDS);
                assertThat(report.done).as("rebuild report %s", report).isTrue();
                assertThat(report.entries).isEqualTo(2); // loopback is never blocked
                assertThat(first.last()).contains("flush set inet spamtrap block4", "192.0.2.10 timeout", "2001:db8:0:0:0:0:0:10 timeout")
                    .doesNotContain("127.0.0.1");
            }
            // recorded while the agent was down: the next start picks it up
            james.record(new TrapHit("192.0.2.11", Instant.now(), "trap@example.org", "helo", "b@example.net", "node2")).toCompletableFuture().get(30, TimeUnit.SECONDS);
            Recorder second = new Recorder();
            try (Agent agent = new Agent.Builder(config).runner(second).build().start()) {
                RebuildReport report = agent.startupRebuild().get(60, TimeUnit.SECONDS);
                assertThat(report.entries).isEqualTo(3);
                assertThat(second.last()).contains("192.0.2.10 timeout", "192.0.2.11 timeout", "2001:db8:0:0:0:0:0:10 timeout");
            }
        }
    }
}
