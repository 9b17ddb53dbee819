package dev.spamtrap.agent;

import dev.spamtrap.agent.apply.RebuildReport;
import dev.spamtrap.agent.reconcile.ActiveOffenderSource;
import dev.spamtrap.core.config.ConfigException;
import dev.spamtrap.core.firewall.AgentEndpoint;
import dev.spamtrap.core.firewall.FirewallClient;
import dev.spamtrap.core.firewall.FirewallCommand;
import dev.spamtrap.core.firewall.FirewallKey;
import dev.spamtrap.core.offender.Offender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Key checks at start, the James-side client, and the rebuild from the offender source. */
class AgentLifecycleTest {
    @TempDir
    Path dir;

    static Offender offender(String ip, Duration left) {
        return offender(ip, left, Duration.ZERO);
    }

    /** An offender recorded {@code ago} before now. */
    static Offender offender(String ip, Duration left, Duration ago) {
        Instant now = Instant.now();
        Instant hit = now.minus(ago);
        return new Offender(ip, hit, hit, 1, "trap@example.org", "helo", "from@example.net", "node1", now.plus(left));
    }

    /** A fake Cassandra: returns whatever the test put in it. */
    static final class FakeSource implements ActiveOffenderSource {
        volatile List<Offender> offenders = new ArrayList<>();
        volatile boolean down;

        @Override
        public CompletionStage<List<Offender>> loadActive() {
            return down ? CompletableFuture.failedFuture(new IllegalStateException("Cassandra store is not connected"))
                : CompletableFuture.completedFuture(new ArrayList<>(offenders));
        }

        @Override
        public String describe() {
            return "fake store";
        }
    }

    @Test
    void refusesToStartWithAWeakKey() throws Exception {
        Path config = TestAgent.writeConfig(dir, Map.of());
        Files.writeString(dir.resolve("agent.key"), Base64.getEncoder().encodeToString(new byte[20]));
        assertThatThrownBy(() -> new Agent.Builder(AgentConfig.load(config)).runner(new FakeRunner()).build())
            .isInstanceOf(ConfigException.class).hasMessageContaining("agent.key: key is too short: 20 bytes");
        Files.write(dir.resolve("agent.key"), new byte[0]);
        assertThatThrownBy(() -> new Agent.Builder(AgentConfig.load(config)).runner(new FakeRunner()).build())
            .hasMessageContaining("key file is empty");
        Files.delete(dir.resolve("agent.key"));
        Files.writeString(config, Files.readString(config).replace("key.file = agent.key", "key.file = missing.key"));
        assertThatThrownBy(() -> new Agent.Builder(AgentConfig.load(config)).runner(new FakeRunner()).build())
            .hasMessageContaining("missing.key: key file does not exist");
        Files.writeString(config, Files.readString(config).replace("key.file = missing.key\n", ""));
        assertThatThrownBy(() -> AgentConfig.load(config)).hasMessageContaining("key 'key.file': is required");
    }

    @Test
    void configErrorsNameFileKeyAndReason() throws Exception {
        Path c = TestAgent.writeConfig(dir, Map.of("listen.tcp", "192.0.2.1:7625"));
        assertThatThrownBy(() -> AgentConfig.load(c)).hasMessageContaining("agent.properties: key 'listen.tcp'").hasMessageContaining("not a loopback address");
        TestAgent.writeConfig(dir, Map.of("nft.command", "nft; rm -rf /"));
        assertThatThrownBy(() -> AgentConfig.load(c)).hasMessageContaining("key 'nft.command'").hasMessageContaining("shell characters");
        TestAgent.writeConfig(dir, Map.of("breaker.maxNewBlocks", "5"));
        assertThatThrownBy(() -> AgentConfig.load(c)).hasMessageContaining("key 'breaker.maxNewBlocks': unknown key");
        TestAgent.writeConfig(dir, Map.of("backend", "iptables"));
        assertThatThrownBy(() -> AgentConfig.load(c)).hasMessageContaining("key 'backend': 'iptables' is not one of nftables, ipset, pf, log");
        TestAgent.writeConfig(dir, Map.of("nft.command", "ip netns exec st-srv nft"));
        assertThat(AgentConfig.load(c).nftCommand()).containsExactly("ip", "netns", "exec", "st-srv", "nft");
    }

    @Test
    void clientDeliversOverTcpAndUnixSocket() throws Exception {
        Path sock = dir.resolve("agent.sock");
        try (TestAgent t = new TestAgent(dir, Map.of("listen.unix", sock.toString()), new FakeRunner(), null, List.of())) {
            FirewallKey key = FirewallKey.of(TestAgent.KEY_BYTES);
            try (FirewallClient tcp = new FirewallClient(AgentEndpoint.tcp(t.address), key, Clock.systemUTC(), new FirewallClient.Options());
                 FirewallClient unix = new FirewallClient(AgentEndpoint.unix(sock), key, Clock.systemUTC(), new FirewallClient.Options())) {
                tcp.offenderRecorded(offender("192.0.2.44", Duration.ofHours(24)));
                unix.offenderRecorded(offender("2001:db8::44", Duration.ofMinutes(10)));
                unix.offenderRecorded(offender("127.0.0.1", Duration.ofMinutes(10)));
                waitFor(() -> tcp.acceptedCount() == 1 && unix.acceptedCount() == 1 && unix.refusedCount() == 1);
                assertThat(t.runner.allInput()).containsPattern("192\\.0\\.2\\.44 timeout 86(399|400)s")
                    .containsPattern("2001:db8:0:0:0:0:0:44 timeout (599|600)s");
                tcp.offenderRemoved("192.0.2.44");
                waitFor(() -> tcp.acceptedCount() == 2);
                assertThat(t.runner.allInput()).contains("delete element inet spamtrap block4 { 192.0.2.44 }");
            }
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(sock))).isEqualTo("rw-rw----");
        }
    }

    @Test
    void clientRetriesUntilTheAgentIsUpAndNeverBlocksTheCaller() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        FirewallClient client = new FirewallClient(AgentEndpoint.tcp(new InetSocketAddress("127.0.0.1", port)), FirewallKey.of(TestAgent.KEY_BYTES),
            Clock.systemUTC(), new FirewallClient.Options().maxAttempts(20).initialBackoff(Duration.ofMillis(100)).maxBackoff(Duration.ofMillis(300)));
        try (client) {
            long t0 = System.nanoTime();
            for (int i = 1; i <= 50; i++) {
                client.submit(FirewallCommand.block("192.0.2." + i, 600));
            }
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(200);
            Thread.sleep(700); // agent down: the client retries
            try (TestAgent t = new TestAgent(dir, Map.of("listen.tcp", "127.0.0.1:" + port, "breaker.maxNewBlocksPerMinute", "1000"),
                new FakeRunner(), null, List.of())) {
                waitFor(() -> client.acceptedCount() == 50);
                assertThat(t.runner.allInput()).contains("192.0.2.1 timeout", "192.0.2.50 timeout");
                assertThat(client.droppedCount()).isZero();
            }
        }
    }

    @Test
    void aFloodRecordedInOneMinuteIsHeldBackOnTheStartUpRebuildAndLifetimesAreCapped() throws Exception {
        FakeSource source = new FakeSource();
        for (int i = 1; i <= 5; i++) {
            source.offenders.add(offender("198.51.100." + i, Duration.ofDays(90), Duration.ofSeconds(1)));
        }
        try (LogCapture log = new LogCapture();
             TestAgent t = new TestAgent(dir, Map.of("breaker.maxNewBlocksPerMinute", "2", "block.maxLifetime", "1d"), new FakeRunner(), source,
                 List.of())) {
            RebuildReport report = t.agent.startupRebuild().get(10, TimeUnit.SECONDS);
            assertThat(report.done).isTrue();
            assertThat(report.entries).isEqualTo(2);
            assertThat(report.refusedByBreaker).isEqualTo(3);
            assertThat(report.capped).isEqualTo(2);
            String rebuild = t.runner.calls.get(t.runner.calls.size() - 1).stdin;
            assertThat(rebuild).containsPattern("198\\.51\\.100\\.\\d timeout 864\\d\\ds").doesNotContain("timeout 77");
            assertThat(rebuild.split("198\\.51\\.100\\.", -1)).hasSize(3);
            assertThat(log.text()).contains("CIRCUIT BREAKER HELD BACK 3 offender(s) from the store");
            // a later reconcile does not let them in either
            RebuildReport later = t.agent.reconciler().get().reconcile(false).get(10, TimeUnit.SECONDS);
            assertThat(later.entries).isEqualTo(2);
            assertThat(later.refusedByBreaker).isEqualTo(3);
        }
    }

    @Test
    void startupRebuildsFromTheSourceInOneTransaction() throws Exception {
        FakeSource source = new FakeSource();
        // recorded in different minutes: state built up over time, restored whole even with a breaker of 1 per minute
        source.offenders.add(offender("192.0.2.1", Duration.ofHours(1), Duration.ofMinutes(3)));
        source.offenders.add(offender("192.0.2.2", Duration.ofMinutes(5), Duration.ofMinutes(2)));
        source.offenders.add(offender("2001:db8::7", Duration.ofHours(2), Duration.ofMinutes(1)));
        source.offenders.add(offender("127.0.0.1", Duration.ofHours(1)));     // loopback: left out
        source.offenders.add(offender("not-an-ip", Duration.ofHours(1)));     // malformed: left out
        source.offenders.add(offender("192.0.2.3", Duration.ofSeconds(-5)));  // expired: left out
        try (LogCapture log = new LogCapture();
             TestAgent t = new TestAgent(dir, Map.of("breaker.maxNewBlocksPerMinute", "1"), new FakeRunner(), source, List.of())) {
            RebuildReport report = t.agent.startupRebuild().get(10, TimeUnit.SECONDS);
            assertThat(report.done).isTrue();
            assertThat(report.full).isFalse(); // the sets were read back (empty): only the difference is written, never a flush
            assertThat(report.entries).isEqualTo(3);
            FakeRunner.Call rebuild = t.runner.calls.get(t.runner.calls.size() - 1);
            assertThat(rebuild.stdin).doesNotContain("flush")
                .containsPattern("192\\.0\\.2\\.1 timeout 3[56]\\d\\ds").contains("add element inet spamtrap wide6 { 2001:db8:0:0:0:0:0:7 timeout")
                .doesNotContain("127.0.0.1", "192.0.2.3 ");
            assertThat(log.text()).contains("REFUSED offender 127.0.0.1 from fake store: 127.0.0.1 is loopback",
                "Skipping offender 'not-an-ip'", "Start-up rebuild from fake store: 6 active offender(s)");

            // two new offenders recorded within the same minute: the breaker (1 per minute) admits one
            source.offenders.add(offender("192.0.2.9", Duration.ofHours(1)));
            source.offenders.add(offender("192.0.2.10", Duration.ofHours(1)));
            int before = t.runner.calls.size();
            RebuildReport second = t.agent.reconciler().get().reconcile(false).get(10, TimeUnit.SECONDS);
            assertThat(second.full).isFalse();
            assertThat(second.added).isEqualTo(1);
            assertThat(second.refusedByBreaker).isEqualTo(1);
            assertThat(t.runner.calls).hasSize(before + 1); // only the difference, in one transaction
            assertThat(t.runner.calls.get(before).stdin).doesNotContain("flush").containsPattern("192\\.0\\.2\\.(9|10) timeout");
            assertThat(log.text()).contains("CIRCUIT BREAKER HELD BACK 1 offender(s) from the store");
            source.offenders.removeIf(o -> o.key().equals("192.0.2.2"));
            RebuildReport third = t.agent.reconciler().get().reconcile(false).get(10, TimeUnit.SECONDS);
            assertThat(third.removed).isEqualTo(1);
            assertThat(third.refusedByBreaker).isEqualTo(1); // still held back: no side door on a later pass
            assertThat(t.runner.calls.get(t.runner.calls.size() - 1).stdin).contains("delete element inet spamtrap block4 { 192.0.2.2 }")
                .doesNotContain("flush");
        }
    }

    @Test
    void storeDownLeavesTheFirewallAlone() throws Exception {
        FakeSource source = new FakeSource();
        source.down = true;
        try (LogCapture log = new LogCapture();
             TestAgent t = new TestAgent(dir, Map.of("reconcile.retryInterval", "1s"), new FakeRunner(), source, List.of())) {
            t.agent.startupRebuild().get(10, TimeUnit.SECONDS);
            assertThat(t.runner.allInput()).doesNotContain("flush set");
            assertThat(log.text()).contains("Start-up rebuild from fake store failed", "the firewall is left as it is, retrying in 1 s");
            source.offenders.add(offender("192.0.2.77", Duration.ofHours(1)));
            source.down = false;
            waitFor(() -> t.runner.allInput().contains("192.0.2.77 timeout"));
            assertThat(t.runner.allInput()).doesNotContain("flush set"); // the kernel was read back: the difference only
        }
    }

    @Test
    void failedBatchFallsBackToOneChangeAtATime() throws Exception {
        FakeRunner runner = new FakeRunner().failWhen(c -> c.stdin != null && c.stdin.contains("192.0.2.66"));
        try (TestAgent t = new TestAgent(dir, Map.of(), runner, null, List.of())) {
            List<String> replies = t.send(t.sign(FirewallCommand.block("192.0.2.65", 60)), t.sign(FirewallCommand.block("192.0.2.66", 60)),
                t.sign(FirewallCommand.block("192.0.2.67", 60)));
            assertThat(replies).hasSize(3);
            assertThat(replies.get(0)).startsWith("OK ");
            assertThat(replies.get(1)).contains("ERR ").contains("firewall command failed");
            assertThat(replies.get(2)).startsWith("OK ");
            assertThat(t.agent.applier().size()).isEqualTo(2);
        }
    }

    static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 15 s");
            }
            Thread.sleep(20);
        }
    }
}
