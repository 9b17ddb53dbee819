package dev.spamtrap.agent.netns;

import dev.spamtrap.agent.Agent;
import dev.spamtrap.agent.AgentConfig;
import dev.spamtrap.agent.LogCapture;
import dev.spamtrap.agent.TestAgent;
import dev.spamtrap.agent.apply.Applier;
import dev.spamtrap.agent.apply.Outcome;
import dev.spamtrap.agent.backend.CommandRunner;
import dev.spamtrap.agent.backend.ProcessCommandRunner;
import dev.spamtrap.agent.net.Prefix;
import dev.spamtrap.agent.reconcile.ActiveOffenderSource;
import dev.spamtrap.core.firewall.FirewallCommand;
import dev.spamtrap.core.offender.Offender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The kernel's sets are never emptied by a failure, and a restart does not start from nothing: real nftables in a
 * network namespace of its own ({@code agt-keep-...}), the agent in this JVM driving {@code ip netns exec NS nft}.
 * Every assertion reads the kernel's sets back with {@code nft -j list set}. Skips with the reason where it cannot run.
 */
class KernelKeptNamespaceTest {
    static final String WIDE = "10.1.0.0/16";

    @TempDir
    Path dir;
    String ns;
    final List<Agent> agents = new ArrayList<>();

    /** A store that can be down, like Cassandra. */
    static final class Store implements ActiveOffenderSource {
        final List<Offender> offenders = new ArrayList<>();
        volatile boolean down;

        @Override
        public CompletionStage<List<Offender>> loadActive() {
            if (down) {
                return CompletableFuture.failedFuture(new IllegalStateException("store down (test)"));
            }
            return CompletableFuture.completedFuture(new ArrayList<>(offenders));
        }

        @Override
        public String describe() {
            return "test store";
        }
    }

    @BeforeAll
    static void usable() {
        Netns.assumeUsable();
    }

    @BeforeEach
    void namespace() {
        ns = Netns.name("agt-keep");
        Netns.create(ns);
    }

    @AfterEach
    void cleanUp() {
        agents.forEach(Agent::close);
        if (ns != null) {
            Netns.delete(ns);
        }
    }

    private Agent agent(Store store, CommandRunner runner) throws Exception {
        Map<String, String> settings = new HashMap<>(Map.of("nft.command", "ip netns exec " + ns + " nft", "protect.localAddresses", "false",
            "block.minPrefix4", "16", "breaker.maxNewBlocksPerMinute", "1000000", "reconcile.retryInterval", "1s",
            "reconcile.maxEntries", "2000000"));
        Agent a = new Agent.Builder(AgentConfig.load(TestAgent.writeConfig(dir, settings))).runner(runner).source(store).build().start();
        agents.add(a);
        return a;
    }

    private String sendOne(Agent a, FirewallCommand c) throws Exception {
        return new TestAgentClient((InetSocketAddress) a.boundAddresses().get(0)).send(c);
    }

    /** The elements of one of the agent's sets, as nft lists them: "a.b.c.d" or "a.b.c.d/len". */
    Set<String> kernel(String set) {
        String json = Netns.run(List.of("ip", "netns", "exec", ns, "nft", "-j", "list", "set", "inet", "spamtrap", set));
        Set<String> out = new HashSet<>();
        Matcher m = Pattern.compile("\"val\": (?:\"([^\"]+)\"|\\{\"prefix\": \\{\"addr\": \"([^\"]+)\", \"len\": (\\d+)\\}\\})").matcher(json);
        while (m.find()) {
            out.add(m.group(1) != null ? m.group(1) : m.group(2) + "/" + m.group(3));
        }
        assertThat(json).as("nft -j list set " + set).contains("\"name\": \"" + set + "\"");
        return out;
    }

    static List<String> addresses(int n, int thirdOctetBase) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add("10.200." + (thirdOctetBase + i / 250) + "." + (1 + i % 250));
        }
        return out;
    }

    static Offender offender(String ip, long lifetimeSeconds) {
        Instant now = Instant.now();
        return new Offender(ip, now.minusSeconds(86_400), now.minusSeconds(86_400), 1, "t", null, null, "n", now.plusSeconds(lifetimeSeconds));
    }

    static void waitUntil(String what, java.util.concurrent.Callable<Boolean> c, long seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!c.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + seconds + " s: " + what);
            }
            Thread.sleep(50);
        }
    }

    /**
     * The reproduction: block4 holds 1,000 elements and wide4 a /16; the agent restarts while the store is
     * down; an UNBLOCK of a /24 inside the /16 fails in nft while the agent does not yet know the kernel's content.
     * Before the fix the agent then "resynchronised" the kernel with its empty view, flushing everything.
     */
    @Test
    void aFailedChangeAfterARestartWithTheStoreDownEmptiesNothing() throws Exception {
        Store store = new Store();
        List<String> thousand = addresses(1000, 0);
        thousand.forEach(ip -> store.offenders.add(offender(ip, 3600)));
        store.offenders.add(offender(WIDE, 3600));
        Agent first = agent(store, new ProcessCommandRunner());
        assertThat(first.startupRebuild().get(60, TimeUnit.SECONDS).done).isTrue();
        assertThat(kernel("block4")).hasSize(1000).containsAll(thousand);
        assertThat(kernel("wide4")).containsExactly(WIDE);
        first.close();
        // stopped: the kernel keeps blocking
        assertThat(kernel("block4")).hasSize(1000);
        assertThat(kernel("wide4")).containsExactly(WIDE);

        store.down = true;
        // the read-back of the sets is held, so the UNBLOCK arrives while the agent does not know what the kernel holds
        GatedRunner runner = new GatedRunner((argv, stdin) -> argv.contains("-j"));
        try (LogCapture log = new LogCapture()) {
            Agent second = agent(store, runner);
            assertThat(runner.reached.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(second.applier().kernelKnown()).isFalse();
            String unblock = sendOne(second, FirewallCommand.unblock("10.1.2.0/24"));
            assertThat(unblock).startsWith("ERR ").contains("firewall command failed").contains("interval overlaps");
            String block = sendOne(second, FirewallCommand.block("10.77.0.1", 600)); // applies at once, before the read-back
            assertThat(block).startsWith("OK ");
            // a longer block of an element the kernel already holds: written as an add while the kernel is unknown
            assertThat(sendOne(second, FirewallCommand.block(thousand.get(0), 86_400))).startsWith("OK ");
            assertThat(kernel("block4")).hasSize(1001).containsAll(thousand).contains("10.77.0.1");
            assertThat(kernel("wide4")).containsExactly(WIDE);
            assertThat(log.text()).doesNotContain("resynchronised");

            runner.open();
            waitUntil("the sets are read back", () -> second.applier().kernelKnown(), 30);
            assertThat(second.applier().size()).isEqualTo(1002);
            // the merge gave it its full lifetime (the add had left the kernel's one-hour timeout)
            waitUntil("the longer block has its day", () -> Netns.run(List.of("ip", "netns", "exec", ns, "nft", "list", "set", "inet", "spamtrap",
                "block4")).contains(thousand.get(0) + " timeout 1d"), 10);
            // now the agent knows the /16: the same UNBLOCK is answered without touching nft
            assertThat(sendOne(second, FirewallCommand.unblock("10.1.2.0/24"))).startsWith("OK ").contains("inside the blocked prefix " + WIDE);
            Thread.sleep(2500); // two start-up rebuild attempts against the down store
            assertThat(log.text()).contains("Start-up rebuild from test store failed");
            assertThat(kernel("block4")).hasSize(1001).containsAll(thousand);
            assertThat(kernel("wide4")).containsExactly(WIDE);
        }
    }

    /**
     * One change nft refuses (a /24 overlapping a /16 the agent was never told about) sits in a batch of 201; every
     * other change applies, the bad one alone is refused, and nothing else in the kernel moves. The test holds the
     * first transaction so that the 201 queue up together, and checks from the log that they did.
     */
    @Test
    void aBatchWithOneChangeNftRefusesAppliesAllTheOthers() throws Exception {
        Store store = new Store();
        List<String> before = addresses(300, 0);
        before.forEach(ip -> store.offenders.add(offender(ip, 3600)));
        GatedRunner runner = new GatedRunner((argv, stdin) -> stdin.contains("10.66.66.66"));
        Agent agent = agent(store, runner);
        assertThat(agent.startupRebuild().get(60, TimeUnit.SECONDS).done).isTrue();
        Netns.check(List.of("ip", "netns", "exec", ns, "nft", "add", "element", "inet", "spamtrap", "wide4", "{", "10.9.0.0/16", "timeout", "1h", "}"));
        try (LogCapture log = new LogCapture()) {
            Applier applier = agent.applier();
            CompletableFuture<Outcome> gate = applier.submit(Applier.Action.BLOCK, Prefix.parse("10.66.66.66"), 600, "test");
            assertThat(runner.reached.await(30, TimeUnit.SECONDS)).isTrue();
            List<String> good = addresses(200, 100);
            List<CompletableFuture<Outcome>> results = new ArrayList<>();
            for (int i = 0; i < good.size(); i++) {
                if (i == 77) {
                    results.add(applier.submit(Applier.Action.BLOCK, Prefix.parse("10.9.1.0/24"), 600, "test"));
                }
                results.add(applier.submit(Applier.Action.BLOCK, Prefix.parse(good.get(i)), 600, "test"));
            }
            runner.open();
            assertThat(gate.get(60, TimeUnit.SECONDS).isApplied()).isTrue();
            Outcome bad = results.remove(77).get(60, TimeUnit.SECONDS);
            assertThat(bad.isApplied()).as(bad.toString()).isFalse();
            assertThat(bad.detail()).contains("firewall command failed", "interval overlaps");
            for (CompletableFuture<Outcome> r : results) {
                assertThat(r.get(60, TimeUnit.SECONDS).isApplied()).as(r.get().toString()).isTrue();
            }
            assertThat(log.text()).as("the bad change was in one batch with the 200 others").contains("Batch of 201 change(s) failed");
            Set<String> block4 = kernel("block4");
            assertThat(block4).hasSize(300 + 200 + 1).containsAll(before).containsAll(good).contains("10.66.66.66");
            assertThat(kernel("wide4")).containsExactly("10.9.0.0/16");
            assertThat(applier.size()).isEqualTo(501);
        }
    }

    /**
     * A restart with 100,000 blocks in the kernel and the store down keeps them all, applies a new BLOCK at once
     * (before the sets are even read back), and a stopped agent leaves every block in place.
     */
    @Test
    void aRestartWithAHundredThousandBlocksAndTheStoreDownKeepsThemAllAndBlocksAtOnce() throws Exception {
        Store store = new Store();
        Agent first = agent(store, new ProcessCommandRunner());
        assertThat(first.startupRebuild().get(60, TimeUnit.SECONDS).done).isTrue();
        first.close();
        StringBuilder script = new StringBuilder();
        for (int i = 0; i < 100_000; i += 1000) {
            script.append("add element inet spamtrap block4 { ");
            for (int j = i; j < i + 1000; j++) {
                script.append(j == i ? "" : ", ").append("10.").append(100 + (j >> 16)).append('.').append((j >> 8) & 255).append('.').append(j & 255).append(" timeout 1h");
            }
            script.append(" }\n");
        }
        Path file = dir.resolve("100k.nft");
        Files.write(file, script.toString().getBytes(StandardCharsets.US_ASCII));
        Netns.check(List.of("ip", "netns", "exec", ns, "nft", "-f", file.toString()));
        // a listing taken while the kernel still resizes the set's hash table can miss elements (seen: 94,650 of 100,000)
        waitUntil("nft lists all 100,000", () -> kernel("block4").size() == 100_000, 20);

        store.down = true;
        Agent second = agent(store, new ProcessCommandRunner());
        long t0 = System.nanoTime();
        String reply = sendOne(second, FirewallCommand.block("10.77.0.1", 600));
        long blockMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(reply).startsWith("OK ");
        assertThat(blockMillis).as("a new BLOCK applies at once after the restart").isLessThan(1500);
        waitUntil("the sets are read back", () -> second.applier().kernelKnown(), 60);
        assertThat(second.applier().size()).isEqualTo(100_001);
        Thread.sleep(2500); // start-up rebuild attempts against the down store
        assertThat(kernel("block4")).hasSize(100_001).contains("10.100.0.0", "10.100.134.159", "10.101.134.159", "10.77.0.1");
        second.close();
        assertThat(kernel("block4")).as("a stopped agent leaves its blocks in the kernel").hasSize(100_001);
        System.out.printf("restart with 100,000 in the kernel and the store down: a new BLOCK answered in %d ms%n", blockMillis);
    }
}
