package dev.spamtrap.agent.netns;

import dev.spamtrap.agent.Agent;
import dev.spamtrap.agent.AgentConfig;
import dev.spamtrap.agent.TestAgent;
import dev.spamtrap.agent.apply.Applier;
import dev.spamtrap.agent.apply.Outcome;
import dev.spamtrap.agent.apply.RebuildReport;
import dev.spamtrap.agent.net.Prefix;
import dev.spamtrap.core.firewall.AgentEndpoint;
import dev.spamtrap.core.firewall.FirewallClient;
import dev.spamtrap.core.firewall.FirewallCommand;
import dev.spamtrap.core.firewall.FirewallKey;
import dev.spamtrap.core.offender.Offender;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent against attacks and accidents, with real nftables in namespaces this class creates: a server
 * namespace (10.231.78.1, fd00:78:1::1, a listener on port 2525, the agent's table) and a client namespace
 * holding IPv4 hosts .2/.3 and IPv6 hosts in two /64s. Skips with the reason where it cannot run.
 */
class NftDefenceNamespaceTest {
    static final String SERVER = "10.231.78.1";
    static final String BAD = "10.231.78.2";
    static final String GOOD = "10.231.78.3";
    static final String SERVER6 = "fd00:78:1::1";
    static final String BAD6_A = "fd00:78:2::2";   // BAD6_A and BAD6_B share the /64 fd00:78:2::/64
    static final String BAD6_B = "fd00:78:2::3";
    static final String GOOD6 = "fd00:78:3::3";   // another /64
    static final int PORT = 2525;

    static String srv;
    static String cli;
    static Netns.Probe listener;
    static Netns.Probe listener6;
    static Netns.Probe client;

    @TempDir
    Path dir;
    Agent agent;

    @BeforeAll
    static void topology() throws Exception {
        Netns.assumeUsable();
        srv = Netns.name("st-dsrv");
        cli = Netns.name("st-dcli");
        Netns.linked(srv, cli, List.of(SERVER, SERVER6), List.of(BAD, GOOD, BAD6_A, BAD6_B, GOOD6));
        listener = new Netns.Probe(srv, "listen", SERVER, Integer.toString(PORT));
        listener6 = new Netns.Probe(srv, "listen", SERVER6, Integer.toString(PORT));
        client = new Netns.Probe(cli, "client");
        waitUntil("every host reaches the server", () -> reaches(BAD) && reaches(GOOD) && reaches6(BAD6_A) && reaches6(GOOD6), 20);
    }

    @AfterAll
    static void removeTopology() {
        for (AutoCloseable c : new AutoCloseable[] {client, listener, listener6}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
        if (srv != null) {
            Netns.delete(srv);
            Netns.delete(cli);
        }
    }

    @AfterEach
    void stopAgent() {
        if (agent != null) {
            agent.close();
        }
        Netns.runStatus(List.of("ip", "netns", "exec", srv, "nft", "delete", "table", "inet", "spamtrap"));
    }

    static boolean reaches(String src) throws Exception {
        return client.connect(src, SERVER, PORT, 1000).equals("OK");
    }

    static boolean reaches6(String src) throws Exception {
        return client.connect(src, SERVER6, PORT, 1000).equals("OK");
    }

    static void waitUntil(String what, Callable<Boolean> c, long seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!c.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + seconds + " s: " + what);
            }
            Thread.sleep(100);
        }
    }

    private Agent start(Map<String, String> extra, NftNamespaceTest.FakeStore store) throws Exception {
        Map<String, String> settings = new java.util.HashMap<>(Map.of("nft.command", "ip netns exec " + srv + " nft", "ports", "25," + PORT,
            "protect.localAddresses", "false"));
        settings.putAll(extra);
        agent = new Agent.Builder(AgentConfig.load(TestAgent.writeConfig(dir, settings))).source(store).build().start();
        assertThat(agent.startupRebuild().get(60, TimeUnit.SECONDS).done).isTrue();
        return agent;
    }

    private FirewallClient james() {
        InetSocketAddress at = (InetSocketAddress) agent.boundAddresses().get(0);
        return new FirewallClient(AgentEndpoint.tcp(at), FirewallKey.of(TestAgent.KEY_BYTES), Clock.systemUTC(), new FirewallClient.Options());
    }

    private static String set(String name) {
        return Netns.run(List.of("ip", "netns", "exec", srv, "nft", "list", "set", "inet", "spamtrap", name));
    }

    @Test
    void anIpv6ClientsSlash64IsBlockedAndUnblocked() throws Exception {
        start(Map.of(), new NftNamespaceTest.FakeStore());
        try (FirewallClient james = james()) {
            james.submit(FirewallCommand.block("fd00:78:2::/64", 600));
            waitUntil("block accepted", () -> james.acceptedCount() == 1, 15);
            assertThat(set("block6")).contains("fd00:78:2::");
            assertThat(client.connect(BAD6_A, SERVER6, PORT, 700)).startsWith("FAIL");
            assertThat(client.connect(BAD6_B, SERVER6, PORT, 700)).startsWith("FAIL"); // another address of the same /64
            assertThat(client.connect(GOOD6, SERVER6, PORT, 2000)).isEqualTo("OK");
            assertThat(reaches(BAD)).isTrue(); // IPv4 untouched

            james.submit(FirewallCommand.unblock("fd00:78:2::/64"));
            waitUntil("unblock accepted", () -> james.acceptedCount() == 2, 15);
            assertThat(set("block6")).doesNotContain("fd00:78:2::");
            assertThat(client.connect(BAD6_A, SERVER6, PORT, 2000)).isEqualTo("OK");
        }
    }

    @Test
    void anEstablishedConnectionSurvivesItsClientsBlockWhileNewOnesFailAndUnblockAndRefreshWork() throws Exception {
        start(Map.of(), new NftNamespaceTest.FakeStore());
        assertThat(client.open("c1", BAD, SERVER, PORT, 2000)).isEqualTo("OK");
        try (FirewallClient james = james()) {
            james.submit(FirewallCommand.block(BAD, 3));
            waitUntil("block accepted", () -> james.acceptedCount() == 1, 15);
            assertThat(client.connect(BAD, SERVER, PORT, 700)).startsWith("FAIL");
            assertThat(client.talk("c1")).isEqualTo("OK"); // the conversation under way goes on
            assertThat(client.connect(GOOD, SERVER, PORT, 2000)).isEqualTo("OK");

            // refresh: a 3 s block renewed for 10 minutes is still there after the first 3 s
            james.submit(FirewallCommand.block(BAD, 600));
            waitUntil("refresh accepted", () -> james.acceptedCount() == 2, 15);
            assertThat(set("block4")).contains(BAD + " timeout 10m");
            Thread.sleep(3500);
            assertThat(client.connect(BAD, SERVER, PORT, 700)).startsWith("FAIL");

            james.submit(FirewallCommand.unblock(BAD));
            waitUntil("unblock accepted", () -> james.acceptedCount() == 3, 15);
            assertThat(client.connect(BAD, SERVER, PORT, 2000)).isEqualTo("OK");
            assertThat(client.talk("c1")).isEqualTo("OK");
        }
    }

    @Test
    void aBatchWithDuplicateAndOverlappingElementsStillAppliesTheRest() throws Exception {
        start(Map.of("breaker.maxNewBlocksPerMinute", "10000"), new NftNamespaceTest.FakeStore());
        Applier applier = agent.applier();
        List<CompletableFuture<Outcome>> results = new ArrayList<>();
        List<String> targets = List.of(BAD, BAD, "198.51.100.0/25", "198.51.100.0/24", "198.51.100.7", "203.0.113.0/24",
            "203.0.113.9", "fd00:78:2::/64", "fd00:78:2::5", "2001:db8::/48", "2001:db8::/56");
        for (String t : targets) {
            results.add(applier.submit(Applier.Action.BLOCK, Prefix.parse(t), 600, "test"));
        }
        for (int i = 0; i < 200; i++) {
            results.add(applier.submit(Applier.Action.BLOCK, Prefix.parse("192.0.2." + i), 600, "test"));
        }
        for (CompletableFuture<Outcome> r : results) {
            assertThat(r.get(60, TimeUnit.SECONDS).isApplied()).as(r.get().toString()).isTrue();
        }
        String wide4 = set("wide4");
        assertThat(wide4).contains("198.51.100.0/24", "203.0.113.0/24").doesNotContain("198.51.100.0/25");
        assertThat(set("block4")).contains(BAD, "192.0.2.0", "192.0.2.199").doesNotContain("198.51.100.7", "203.0.113.9");
        assertThat(set("block6")).contains("fd00:78:2::");
        assertThat(set("wide6")).contains("2001:db8::/48").doesNotContain("/56");
        assertThat(client.connect(BAD, SERVER, PORT, 700)).startsWith("FAIL");
        assertThat(client.connect(GOOD, SERVER, PORT, 2000)).isEqualTo("OK");
    }

    @Test
    void theTableIsRestoredAtOnceAfterFlushRuleset() throws Exception {
        start(Map.of(), new NftNamespaceTest.FakeStore());
        try (FirewallClient james = james()) {
            james.submit(FirewallCommand.block(BAD, 600));
            waitUntil("block accepted", () -> james.acceptedCount() == 1, 15);
        }
        assertThat(client.connect(BAD, SERVER, PORT, 700)).startsWith("FAIL");
        Netns.check(List.of("ip", "netns", "exec", srv, "nft", "flush", "ruleset"));
        long flushed = System.nanoTime();
        waitUntil("the table is back with its element", () -> set("block4").contains(BAD + " timeout"), 10);
        System.out.printf("table restored %d ms after nft flush ruleset%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - flushed));
        assertThat(client.connect(BAD, SERVER, PORT, 700)).startsWith("FAIL");
        assertThat(client.connect(GOOD, SERVER, PORT, 2000)).isEqualTo("OK");
        assertThat(agent.applier().stats().tablesRestored()).isEqualTo(1);
    }

    @Test
    void sixtyFourIdleConnectionsDoNotStopJamessBlocks() throws Exception {
        start(Map.of("listen.idleTimeout", "30s"), new NftNamespaceTest.FakeStore());
        InetSocketAddress at = (InetSocketAddress) agent.boundAddresses().get(0);
        List<Socket> idle = new ArrayList<>();
        try (FirewallClient james = james()) {
            for (int i = 0; i < 64; i++) {
                Socket s = new Socket();
                s.connect(at, 2000);
                idle.add(s);
            }
            long t0 = System.nanoTime();
            james.submit(FirewallCommand.block(BAD, 600));
            waitUntil("block accepted despite 64 idle connections", () -> james.acceptedCount() == 1, 15);
            System.out.printf("block applied %d ms after it was submitted, with 64 idle connections open%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            assertThat(client.connect(BAD, SERVER, PORT, 700)).startsWith("FAIL");
            // the attacker keeps opening connections; James's proven connection is never the one closed
            for (int i = 0; i < 64; i++) {
                Socket s = new Socket();
                s.connect(at, 2000);
                idle.add(s);
            }
            james.submit(FirewallCommand.block(GOOD, 600));
            waitUntil("second block accepted", () -> james.acceptedCount() == 2, 15);
            assertThat(james.refusedCount()).isZero();
            assertThat(client.connect(GOOD, SERVER, PORT, 700)).startsWith("FAIL");
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
    }

    @Test
    void theBreakerHoldsBackAFloodOnTheStartUpRebuild() throws Exception {
        NftNamespaceTest.FakeStore store = new NftNamespaceTest.FakeStore();
        Instant now = Instant.now();
        store.offenders.add(new Offender(BAD, now.minusSeconds(7200), now.minusSeconds(7200), 1, "t", null, null, "n", now.plusSeconds(600)));
        for (int i = 10; i < 60; i++) { // a flood: 50 recorded within the same minute
            store.offenders.add(new Offender("10.231.78." + i, now, now, 1, "t", null, null, "n", now.plusSeconds(600)));
        }
        start(Map.of("breaker.maxNewBlocksPerMinute", "5"), store);
        RebuildReport report = agent.startupRebuild().get();
        assertThat(report.entries).isEqualTo(6);
        assertThat(report.refusedByBreaker).isEqualTo(45);
        assertThat(set("block4").split("10\\.231\\.78\\.", -1)).hasSize(7);
        assertThat(client.connect(BAD, SERVER, PORT, 700)).startsWith("FAIL");
        assertThat(client.connect(GOOD, SERVER, PORT, 2000)).isEqualTo("OK");
    }
}
