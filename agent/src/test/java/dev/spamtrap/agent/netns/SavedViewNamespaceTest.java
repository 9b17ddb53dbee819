package dev.spamtrap.agent.netns;

import dev.spamtrap.agent.Agent;
import dev.spamtrap.agent.AgentConfig;
import dev.spamtrap.agent.LogCapture;
import dev.spamtrap.agent.TestAgent;
import dev.spamtrap.agent.backend.CommandRunner;
import dev.spamtrap.agent.backend.ProcessCommandRunner;
import dev.spamtrap.core.firewall.FirewallCommand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static dev.spamtrap.agent.netns.KernelKeptNamespaceTest.addresses;
import static dev.spamtrap.agent.netns.KernelKeptNamespaceTest.offender;
import static dev.spamtrap.agent.netns.KernelKeptNamespaceTest.waitUntil;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent's saved view ({@code state.file}) with real nftables in a network namespace of its own: a restart loads
 * it and knows the kernel at once, the kernel untouched and the store down; the read-back that follows compares by
 * difference (an element deleted by hand while the agent was down is not put back); a corrupt file falls back to
 * adding only until the read-back. Every kernel assertion lists the sets with {@code nft -j list set}.
 */
class SavedViewNamespaceTest {
    static final String WIDE = "10.1.0.0/16";

    @TempDir
    Path dir;
    String ns;
    final List<Agent> agents = new ArrayList<>();
    KernelKeptNamespaceTest kernel;

    @BeforeAll
    static void usable() {
        Netns.assumeUsable();
    }

    @BeforeEach
    void namespace() {
        ns = Netns.name("agt-view");
        Netns.create(ns);
        kernel = new KernelKeptNamespaceTest();
        kernel.ns = ns;
    }

    @AfterEach
    void cleanUp() {
        agents.forEach(Agent::close);
        if (ns != null) {
            Netns.delete(ns);
        }
    }

    private Path stateFile() {
        return dir.resolve("view.bin");
    }

    private Agent agent(KernelKeptNamespaceTest.Store store, CommandRunner runner) throws Exception {
        Map<String, String> settings = new HashMap<>(Map.of("nft.command", "ip netns exec " + ns + " nft", "protect.localAddresses", "false",
            "block.minPrefix4", "16", "breaker.maxNewBlocksPerMinute", "1000000", "reconcile.retryInterval", "1s",
            "state.file", stateFile().toString()));
        Agent a = new Agent.Builder(AgentConfig.load(TestAgent.writeConfig(dir, settings))).runner(runner).source(store).build().start();
        agents.add(a);
        return a;
    }

    private static String send(Agent a, FirewallCommand c) throws Exception {
        return new TestAgentClient((InetSocketAddress) a.boundAddresses().get(0)).send(c);
    }

    /** 2,000 addresses and a /16, put in the kernel by a first agent from the store; that agent stops and saves its view. */
    private List<String> firstAgentBlocksAndStops(KernelKeptNamespaceTest.Store store) throws Exception {
        List<String> blocked = addresses(2000, 0);
        blocked.forEach(ip -> store.offenders.add(offender(ip, 3600)));
        store.offenders.add(offender(WIDE, 3600));
        Agent first = agent(store, new ProcessCommandRunner());
        assertThat(first.startupRebuild().get(60, TimeUnit.SECONDS).done).isTrue();
        assertThat(kernel.kernel("block4")).hasSize(2000).containsAll(blocked);
        first.close();
        assertThat(stateFile()).exists();
        assertThat(kernel.kernel("block4")).as("a stopped agent leaves its blocks").hasSize(2000);
        return blocked;
    }

    @Test
    void aRestartWithTheStoreDownKnowsTheKernelFromTheSavedViewAtOnceAndKeepsEveryBlock() throws Exception {
        KernelKeptNamespaceTest.Store store = new KernelKeptNamespaceTest.Store();
        List<String> blocked = firstAgentBlocksAndStops(store);
        String deletedByHand = blocked.get(5);
        Netns.check(List.of("ip", "netns", "exec", ns, "nft", "delete", "element", "inet", "spamtrap", "block4", "{", deletedByHand, "}"));

        store.down = true;
        // every listing (the read-back and the drift check) held: what the agent knows now comes from the file alone
        GatedRunner runner = new GatedRunner((argv, stdin) -> argv.contains("-j"));
        try (LogCapture log = new LogCapture()) {
            Agent second = agent(store, runner);
            assertThat(second.applier().kernelKnown()).as("known from the saved view, before any listing").isTrue();
            assertThat(second.applier().size()).isEqualTo(2001);
            assertThat(log.text()).contains("Loaded the saved view").contains("2001 entries");
            assertThat(runner.reached.await(30, TimeUnit.SECONDS)).isTrue();

            // it knows the /16: an UNBLOCK inside it is answered without nft (before, nft refused it: "interval overlaps")
            assertThat(send(second, FirewallCommand.unblock("10.1.2.0/24"))).startsWith("OK ").contains("inside the blocked prefix " + WIDE);
            // it knows each address: an UNBLOCK removes one it holds
            assertThat(send(second, FirewallCommand.unblock(blocked.get(0)))).startsWith("OK ").endsWith("unblocked");
            assertThat(send(second, FirewallCommand.block("10.77.0.1", 600))).startsWith("OK ").contains("blocked for 600 s");
            Set<String> block4 = kernel.kernel("block4");
            assertThat(block4).hasSize(2000 - 1 - 1 + 1).contains("10.77.0.1").doesNotContain(blocked.get(0), deletedByHand);
            assertThat(kernel.kernel("wide4")).containsExactly(WIDE);

            runner.open();
            waitUntil("the read-back compared the saved view", () -> log.text().contains("the saved view differed"), 60);
            assertThat(log.text()).contains("1 of its entries are not in the kernel (left out of the view, e.g. " + deletedByHand + ")");
            assertThat(second.applier().size()).isEqualTo(2000 - 1 - 1 + 1 + 1);
            Thread.sleep(2500); // drift checks and start-up rebuild attempts against the down store
            assertThat(kernel.kernel("block4")).as("the element deleted by hand is not put back").hasSize(1999).doesNotContain(deletedByHand);
            assertThat(log.text()).doesNotContain("FIREWALL DRIFT");
            second.close();
        }
        assertThat(kernel.kernel("block4")).hasSize(1999);
        assertThat(kernel.kernel("wide4")).containsExactly(WIDE);
    }

    @Test
    void aCorruptSavedViewIsIgnoredWithALogLineAndTheAgentOnlyAddsUntilTheReadBack() throws Exception {
        KernelKeptNamespaceTest.Store store = new KernelKeptNamespaceTest.Store();
        List<String> blocked = firstAgentBlocksAndStops(store);
        byte[] bytes = Files.readAllBytes(stateFile());
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(stateFile(), bytes);

        store.down = true;
        GatedRunner runner = new GatedRunner((argv, stdin) -> argv.contains("-j"));
        try (LogCapture log = new LogCapture()) {
            Agent second = agent(store, runner);
            assertThat(log.text()).contains("SAVED VIEW UNUSABLE").contains("checksum mismatch").contains("only adds");
            assertThat(runner.reached.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(second.applier().kernelKnown()).isFalse();
            assertThat(second.applier().size()).isZero();
            // add-only: a new BLOCK applies; an UNBLOCK inside the unknown /16 fails alone in nft, nothing else moves
            assertThat(send(second, FirewallCommand.block("10.77.0.1", 600))).startsWith("OK ");
            assertThat(send(second, FirewallCommand.unblock("10.1.2.0/24"))).startsWith("ERR ").contains("interval overlaps");
            assertThat(kernel.kernel("block4")).hasSize(2001).containsAll(blocked).contains("10.77.0.1");
            assertThat(kernel.kernel("wide4")).containsExactly(WIDE);

            runner.open();
            waitUntil("the sets are read back", () -> second.applier().kernelKnown(), 60);
            assertThat(second.applier().size()).isEqualTo(2002);
            second.close();
        }
        assertThat(kernel.kernel("block4")).hasSize(2001).containsAll(blocked);
        // the stop saved a good view again
        Agent third = agent(store, new ProcessCommandRunner());
        assertThat(third.applier().kernelKnown()).isTrue();
        assertThat(third.applier().size()).isEqualTo(2002);
    }

    @Test
    void withoutASavedViewTheAgentSaysSoAndOnlyAddsUntilTheReadBack() throws Exception {
        KernelKeptNamespaceTest.Store store = new KernelKeptNamespaceTest.Store();
        store.down = true;
        GatedRunner runner = new GatedRunner((argv, stdin) -> argv.contains("-j"));
        try (LogCapture log = new LogCapture()) {
            Agent a = agent(store, runner);
            assertThat(log.text()).contains("No saved view at " + stateFile());
            assertThat(a.applier().kernelKnown()).isFalse();
            runner.open();
            waitUntil("the sets are read back", () -> a.applier().kernelKnown(), 60);
        }
    }
}
