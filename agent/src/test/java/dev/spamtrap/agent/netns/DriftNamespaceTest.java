package dev.spamtrap.agent.netns;

import dev.spamtrap.agent.Agent;
import dev.spamtrap.agent.AgentConfig;
import dev.spamtrap.agent.TestAgent;
import dev.spamtrap.agent.apply.RebuildReport;
import dev.spamtrap.core.offender.Offender;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Drift is seen within 2 s and repaired by difference: {@code nft flush set}, {@code nft flush table},
 * {@code nft delete rule} and {@code nft flush ruleset}, each done behind the agent's back in a namespace of its own
 * ({@code agt-drift-...}), are put right within 2 s (measured from the command to the kernel holding every
 * element and rule again). Rules that were not touched keep their handles and counters, through a repair and
 * through a reconcile. The namespace's loopback holds 10.55.0.0/24, so a blocked 10.55.0.2 can knock on port 25 and
 * make the block4 rule count.
 */
class DriftNamespaceTest {
    static final String SERVER = "10.55.0.1";
    static final String BLOCKED = "10.55.0.2";

    @TempDir
    Path dir;
    String ns;
    Agent agent;
    final KernelKeptNamespaceTest.Store store = new KernelKeptNamespaceTest.Store();
    final Set<String> block4 = new HashSet<>();

    @BeforeAll
    static void usable() {
        Netns.assumeUsable();
    }

    @BeforeEach
    void start() throws Exception {
        ns = Netns.name("agt-drift");
        Netns.create(ns);
        Netns.check(List.of("ip", "-n", ns, "addr", "add", SERVER + "/24", "dev", "lo"));
        for (int i = 2; i < 52; i++) {
            block4.add("10.55.0." + i);
            store.offenders.add(KernelKeptNamespaceTest.offender("10.55.0." + i, 3600));
        }
        store.offenders.add(KernelKeptNamespaceTest.offender("10.66.0.0/20", 3600));
        store.offenders.add(KernelKeptNamespaceTest.offender("2001:db8:5:6::/64", 3600));
        store.offenders.add(KernelKeptNamespaceTest.offender("2001:db8:77::/48", 3600));
        Map<String, String> settings = new HashMap<>(Map.of("nft.command", "ip netns exec " + ns + " nft", "protect.localAddresses", "false",
            "block.minPrefix4", "16", "drift.checkInterval", "1s"));
        agent = new Agent.Builder(AgentConfig.load(TestAgent.writeConfig(dir, settings))).source(store).build().start();
        assertThat(agent.startupRebuild().get(60, TimeUnit.SECONDS).done).isTrue();
        assertThat(whole()).isTrue();
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
        if (ns != null) {
            Netns.delete(ns);
        }
    }

    private String nft(String... args) {
        List<String> argv = new java.util.ArrayList<>(List.of("ip", "netns", "exec", ns, "nft"));
        argv.addAll(List.of(args));
        return Netns.run(argv);
    }

    /** Every element and rule the agent put there is in the kernel. */
    private boolean whole() {
        String table = nft("list", "table", "inet", "spamtrap");
        for (String a : block4) {
            if (!table.contains(a + " timeout")) {
                return false;
            }
        }
        return table.contains("10.66.0.0/20 timeout") && table.contains("2001:db8:5:6:: timeout") && table.contains("2001:db8:77::/48 timeout")
            && rules().keySet().containsAll(List.of("block4", "wide4", "block6", "wide6"));
    }

    /** Per set its rule matches: {handle, packets counted}. */
    private Map<String, long[]> rules() {
        String json = nft("-j", "list", "chain", "inet", "spamtrap", "prerouting");
        Map<String, long[]> out = new HashMap<>();
        for (String rule : json.split("\\{\"rule\": ")) {
            Matcher set = Pattern.compile("\"@(\\w+)\"").matcher(rule);
            Matcher handle = Pattern.compile("\"handle\": (\\d+)").matcher(rule);
            Matcher packets = Pattern.compile("\"packets\": (\\d+)").matcher(rule);
            if (set.find() && handle.find() && packets.find()) {
                out.put(set.group(1), new long[] {Long.parseLong(handle.group(1)), Long.parseLong(packets.group(1))});
            }
        }
        return out;
    }

    private long repairMillis(String... drift) throws Exception {
        String out = Netns.runStatus(List.of("ip", "netns", "exec", ns, "sh", "-c", "nft " + String.join(" ", drift)));
        assertThat(out).as("nft " + String.join(" ", drift)).isNull();
        long t0 = System.nanoTime();
        assertThat(whole()).as("the drift happened").isFalse();
        waitUntil("repaired after nft " + String.join(" ", drift), this::whole, 10);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        System.out.printf("nft %s repaired in %d ms%n", String.join(" ", drift), ms);
        return ms;
    }

    private void knock() throws Exception {
        try (Netns.Probe probe = new Netns.Probe(ns, "client")) {
            assertThat(probe.connect(BLOCKED, SERVER, 25, 500)).startsWith("FAIL");
        }
    }

    static void waitUntil(String what, Callable<Boolean> c, long seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!c.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + seconds + " s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void flushSetIsRepairedWithinTwoSecondsAndTheRulesKeepTheirCounters() throws Exception {
        knock();
        Map<String, long[]> before = rules();
        assertThat(before.get("block4")[1]).as("the blocked host's SYN was counted").isPositive();
        assertThat(repairMillis("flush set inet spamtrap block4")).isLessThan(2000);
        Map<String, long[]> after = rules();
        for (String set : before.keySet()) {
            assertThat(after.get(set)[0]).as("handle of the rule for " + set).isEqualTo(before.get(set)[0]);
            assertThat(after.get(set)[1]).as("counter of the rule for " + set).isGreaterThanOrEqualTo(before.get(set)[1]);
        }
        assertThat(agent.applier().stats().driftRepaired()).isEqualTo(50);
    }

    @Test
    void flushTableIsRepairedWithinTwoSeconds() throws Exception {
        assertThat(repairMillis("flush table inet spamtrap")).isLessThan(2000);
    }

    @Test
    void aDeletedRuleIsPutBackWithinTwoSecondsAndTheOthersKeepTheirCounters() throws Exception {
        knock();
        Map<String, long[]> before = rules();
        assertThat(repairMillis("delete rule inet spamtrap prerouting handle " + before.get("wide4")[0])).isLessThan(2000);
        Map<String, long[]> after = rules();
        assertThat(after.get("wide4")[0]).isNotEqualTo(before.get("wide4")[0]);
        for (String set : List.of("block4", "block6", "wide6")) {
            assertThat(after.get(set)[0]).as("handle of the rule for " + set).isEqualTo(before.get(set)[0]);
        }
        assertThat(after.get("block4")[1]).isGreaterThanOrEqualTo(before.get("block4")[1]).isPositive();
        knock();
        assertThat(rules().get("block4")[1]).as("the rule still counts").isGreaterThan(before.get("block4")[1]);
    }

    @Test
    void flushRulesetIsRepairedWithinTwoSeconds() throws Exception {
        assertThat(repairMillis("flush ruleset")).isLessThan(2000);
        assertThat(agent.applier().stats().tablesRestored()).isEqualTo(1);
    }

    @Test
    void aReconcileKeepsTheRulesAndTheirCounters() throws Exception {
        knock();
        Map<String, long[]> before = rules();
        store.offenders.add(KernelKeptNamespaceTest.offender("10.55.0.99", 3600));
        store.offenders.removeIf(o -> o.key().equals("10.55.0.51"));
        RebuildReport report = agent.reconciler().get().reconcile(false).get(30, TimeUnit.SECONDS);
        assertThat(report.added).isEqualTo(1);
        assertThat(report.removed).isEqualTo(1);
        Map<String, long[]> after = rules();
        for (String set : before.keySet()) {
            assertThat(after.get(set)[0]).isEqualTo(before.get(set)[0]);
            assertThat(after.get(set)[1]).isGreaterThanOrEqualTo(before.get(set)[1]);
        }
        String set = nft("list", "set", "inet", "spamtrap", "block4");
        assertThat(set).contains("10.55.0.99 timeout").doesNotContain("10.55.0.51 ");
    }
}
