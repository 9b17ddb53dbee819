package dev.spamtrap.agent.netns;

import dev.spamtrap.agent.Agent;
import dev.spamtrap.agent.AgentConfig;
import dev.spamtrap.agent.TestAgent;
import dev.spamtrap.agent.apply.RebuildReport;
import dev.spamtrap.agent.reconcile.ActiveOffenderSource;
import dev.spamtrap.core.firewall.AgentEndpoint;
import dev.spamtrap.core.firewall.FirewallClient;
import dev.spamtrap.core.firewall.FirewallCommand;
import dev.spamtrap.core.firewall.FirewallKey;
import dev.spamtrap.core.offender.Offender;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real thing, in network namespaces this test creates: a server namespace with a TCP listener on port 2525
 * and the agent's nftables table, and a client namespace holding two hosts (10.231.77.2 and .3) on a veth
 * pair. The agent runs in this JVM and drives {@code ip netns exec <srv> nft}; the host's own firewall is
 * never touched. Skips with the reason where it cannot run (not root, no nft, no namespaces).
 */
class NftNamespaceTest {
    static final String SERVER = "10.231.77.1";
    static final String BAD = "10.231.77.2";
    static final String GOOD = "10.231.77.3";
    static final int PORT = 2525;

    @TempDir
    Path dir;

    @BeforeAll
    static void usable() {
        Netns.assumeUsable();
    }

    static final class FakeStore implements ActiveOffenderSource {
        final List<Offender> offenders = new ArrayList<>();

        @Override
        public CompletionStage<List<Offender>> loadActive() {
            return CompletableFuture.completedFuture(new ArrayList<>(offenders));
        }

        @Override
        public String describe() {
            return "fake store";
        }
    }

    private Agent agent(String srv, ActiveOffenderSource store) throws Exception {
        Path config = TestAgent.writeConfig(dir, Map.of("nft.command", "ip netns exec " + srv + " nft", "ports", "25," + PORT,
            "nft.table", "spamtrap"));
        return new Agent.Builder(AgentConfig.load(config)).source(store).build().start();
    }

    private static void waitUntil(String what, java.util.concurrent.Callable<Boolean> c, long seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!c.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + seconds + " s: " + what);
            }
            Thread.sleep(200);
        }
    }

    @Test
    void blocksOneHostExpiresInTheKernelAndIsRebuiltAfterRestart() throws Exception {
        String srv = Netns.name("st-srv");
        String cli = Netns.name("st-cli");
        try {
            Netns.linked(srv, cli, List.of(SERVER), List.of(BAD, GOOD));
            try (Netns.Probe listener = new Netns.Probe(srv, "listen", SERVER, Integer.toString(PORT));
                 Netns.Probe client = new Netns.Probe(cli, "client")) {
                waitUntil("both hosts reach the server", () -> client.connect(BAD, SERVER, PORT, 1000).equals("OK")
                    && client.connect(GOOD, SERVER, PORT, 1000).equals("OK"), 15);

                FakeStore store = new FakeStore();
                Agent first = agent(srv, store);
                try {
                    assertThat(first.startupRebuild().get(30, TimeUnit.SECONDS).done).isTrue();
                    InetSocketAddress at = (InetSocketAddress) first.boundAddresses().get(0);
                    try (FirewallClient james = new FirewallClient(AgentEndpoint.tcp(at), FirewallKey.of(TestAgent.KEY_BYTES), Clock.systemUTC(),
                        new FirewallClient.Options())) {
                        james.submit(FirewallCommand.block(BAD, 3));
                        waitUntil("agent accepted the block", () -> james.acceptedCount() == 1, 15);
                    }
                    assertThat(Netns.run(List.of("ip", "netns", "exec", srv, "nft", "list", "set", "inet", "spamtrap", "block4")))
                        .contains(BAD + " timeout 3s");
                    assertThat(client.connect(BAD, SERVER, PORT, 700)).startsWith("FAIL");
                    assertThat(client.connect(GOOD, SERVER, PORT, 2000)).isEqualTo("OK");
                } finally {
                    first.close();
                }
                // the agent is down; the kernel still blocks, then expires the element by itself
                long stoppedAt = System.nanoTime();
                waitUntil("block expired in the kernel while the agent is down", () -> client.connect(BAD, SERVER, PORT, 500).equals("OK"), 10);
                assertThat(System.nanoTime() - stoppedAt).isLessThan(TimeUnit.SECONDS.toNanos(8));

                // lost state: the store says BAD is an offender for 5 more minutes, the kernel holds a stale GOOD entry
                Instant now = Instant.now();
                store.offenders.add(new Offender(BAD, now, now, 2, "trap@example.org", null, null, "node1", now.plus(Duration.ofMinutes(5))));
                Netns.check(List.of("ip", "netns", "exec", srv, "nft", "add", "element", "inet", "spamtrap", "block4", "{", GOOD, "timeout", "300s", "}"));
                assertThat(client.connect(GOOD, SERVER, PORT, 700)).startsWith("FAIL");
                try (Agent second = agent(srv, store)) {
                    RebuildReport report = second.startupRebuild().get(30, TimeUnit.SECONDS);
                    assertThat(report.done).isTrue();
                    assertThat(report.entries).isEqualTo(1);
                    assertThat(client.connect(BAD, SERVER, PORT, 700)).startsWith("FAIL");
                    assertThat(client.connect(GOOD, SERVER, PORT, 2000)).isEqualTo("OK");
                    String set = Netns.run(List.of("ip", "netns", "exec", srv, "nft", "list", "set", "inet", "spamtrap", "block4"));
                    assertThat(set).contains(BAD + " timeout").doesNotContain(GOOD);
                }
            }
        } finally {
            Netns.delete(srv);
            Netns.delete(cli);
        }
    }
}
