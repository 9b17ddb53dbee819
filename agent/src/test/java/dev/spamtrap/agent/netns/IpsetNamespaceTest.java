package dev.spamtrap.agent.netns;

import dev.spamtrap.agent.Agent;
import dev.spamtrap.agent.AgentConfig;
import dev.spamtrap.agent.TestAgent;
import dev.spamtrap.core.firewall.AgentEndpoint;
import dev.spamtrap.core.firewall.FirewallClient;
import dev.spamtrap.core.firewall.FirewallCommand;
import dev.spamtrap.core.firewall.FirewallKey;
import dev.spamtrap.core.offender.Offender;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ipset backend against Debian's real {@code ipset} and {@code iptables}/{@code ip6tables}, run inside a
 * server namespace this test creates: start-up rebuild from the store (IPv4 address and IPv6 /64), then BLOCK and
 * UNBLOCK from the James-side client, each checked at the packet level from a client namespace.
 */
class IpsetNamespaceTest {
    static final String SERVER = "10.231.79.1";
    static final String BAD = "10.231.79.2";
    static final String GOOD = "10.231.79.3";
    static final String SERVER6 = "fd00:79:1::1";
    static final String BAD6 = "fd00:79:2::2";
    static final String GOOD6 = "fd00:79:3::3";
    static final int PORT = 2525;

    @TempDir
    Path dir;

    @BeforeAll
    static void usable() {
        Netns.assumeUsable();
        for (String tool : List.of("ipset", "iptables", "ip6tables")) {
            Assumptions.assumeTrue(Netns.runStatus(List.of("which", tool)) == null, "SKIPPED: '" + tool + "' is not installed (apt-get install -y ipset iptables)");
        }
    }

    @Test
    void blocksUnblocksAndRebuildsWithRealIpsetAndIptables() throws Exception {
        String srv = Netns.name("st-isrv");
        String cli = Netns.name("st-icli");
        try {
            Netns.linked(srv, cli, List.of(SERVER, SERVER6), List.of(BAD, GOOD, BAD6, GOOD6));
            try (Netns.Probe l4 = new Netns.Probe(srv, "listen", SERVER, Integer.toString(PORT));
                 Netns.Probe l6 = new Netns.Probe(srv, "listen", SERVER6, Integer.toString(PORT));
                 Netns.Probe client = new Netns.Probe(cli, "client")) {
                NftDefenceNamespaceTest.waitUntil("every host reaches the server", () -> client.connect(BAD, SERVER, PORT, 1000).equals("OK")
                    && client.connect(BAD6, SERVER6, PORT, 1000).equals("OK"), 20);

                NftNamespaceTest.FakeStore store = new NftNamespaceTest.FakeStore();
                Instant now = Instant.now();
                store.offenders.add(new Offender("fd00:79:2::/64", now, now, 1, "t", null, null, "n", now.plusSeconds(600)));
                String exec = "ip netns exec " + srv + " ";
                Path config = TestAgent.writeConfig(dir, Map.of("backend", "ipset", "ipset.command", exec + "ipset",
                    "iptables.command", exec + "iptables", "ip6tables.command", exec + "ip6tables", "ports", "25," + PORT,
                    "protect.localAddresses", "false"));
                try (Agent agent = new Agent.Builder(AgentConfig.load(config)).source(store).build().start()) {
                    assertThat(agent.startupRebuild().get(60, TimeUnit.SECONDS).entries).isEqualTo(1);
                    assertThat(Netns.run(List.of("ip", "netns", "exec", srv, "ipset", "list", "spamtrap6"))).contains("fd00:79:2::/64");
                    assertThat(client.connect(BAD6, SERVER6, PORT, 700)).startsWith("FAIL");
                    assertThat(client.connect(GOOD6, SERVER6, PORT, 2000)).isEqualTo("OK");

                    InetSocketAddress at = (InetSocketAddress) agent.boundAddresses().get(0);
                    try (FirewallClient james = new FirewallClient(AgentEndpoint.tcp(at), FirewallKey.of(TestAgent.KEY_BYTES), Clock.systemUTC(),
                        new FirewallClient.Options())) {
                        assertThat(client.open("c1", BAD, SERVER, PORT, 2000)).isEqualTo("OK");
                        james.submit(FirewallCommand.block(BAD, 600));
                        NftDefenceNamespaceTest.waitUntil("block accepted", () -> james.acceptedCount() == 1, 15);
                        assertThat(Netns.run(List.of("ip", "netns", "exec", srv, "ipset", "list", "spamtrap4"))).contains(BAD + " timeout");
                        assertThat(client.connect(BAD, SERVER, PORT, 700)).startsWith("FAIL");
                        assertThat(client.talk("c1")).isEqualTo("OK");
                        assertThat(client.connect(GOOD, SERVER, PORT, 2000)).isEqualTo("OK");

                        james.submit(FirewallCommand.unblock(BAD));
                        james.submit(FirewallCommand.unblock("fd00:79:2::/64"));
                        NftDefenceNamespaceTest.waitUntil("unblocks accepted", () -> james.acceptedCount() == 3, 15);
                        assertThat(client.connect(BAD, SERVER, PORT, 2000)).isEqualTo("OK");
                        assertThat(client.connect(BAD6, SERVER6, PORT, 2000)).isEqualTo("OK");
                    }
                }
            }
        } finally {
            Netns.delete(srv);
            Netns.delete(cli);
        }
    }

    @Test
    void aThirtyDayBlockAppliesWithItsLifetimeCappedAtIpsetsLongestTimeout() throws Exception {
        String ns = Netns.name("agt-ipset");
        try {
            Netns.create(ns);
            String exec = "ip netns exec " + ns + " ";
            Path config = TestAgent.writeConfig(dir, Map.of("backend", "ipset", "ipset.command", exec + "ipset",
                "iptables.command", exec + "iptables", "ip6tables.command", exec + "ip6tables", "protect.localAddresses", "false",
                "block.maxLifetime", "30d"));
            try (dev.spamtrap.agent.LogCapture log = new dev.spamtrap.agent.LogCapture();
                 Agent agent = new Agent.Builder(AgentConfig.load(config)).source(null).build().start()) {
                String reply = new TestAgentClient((InetSocketAddress) agent.boundAddresses().get(0)).send(FirewallCommand.block("192.0.2.30", 30 * 86_400));
                assertThat(reply).startsWith("OK ").contains("capped at 2147483 s");
                String set = Netns.run(List.of("ip", "netns", "exec", ns, "ipset", "list", "spamtrap4"));
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("192\\.0\\.2\\.30 timeout (\\d+)").matcher(set);
                assertThat(m.find()).as(set).isTrue();
                assertThat(Long.parseLong(m.group(1))).isBetween(2_147_400L, 2_147_483L);
                assertThat(log.text()).contains("block.maxLifetime (2592000 s) is longer than the longest timeout", "capped at 2147483 s");
            }
        } finally {
            Netns.delete(ns);
        }
    }
}
