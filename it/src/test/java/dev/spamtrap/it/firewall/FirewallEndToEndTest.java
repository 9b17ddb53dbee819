package dev.spamtrap.it.firewall;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.stack.AgentProcess;
import dev.spamtrap.it.stack.CassandraProcess;
import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.ProjectLayout;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole path at the packet level, in network namespaces this test creates: a server host running a real
 * Cassandra, a real James with the drop-in jar and the firewall agent with the nftables backend, and a client
 * host with two addresses. The client that sends to a trap is blocked in the kernel (its next TCP connection
 * fails) while the other address still connects; after the agent restarts with its sets lost, they are
 * rebuilt from Cassandra; the block then expires by its kernel timeout while the agent is down.
 * Skips, saying why, where namespaces or nft are not available.
 */
class FirewallEndToEndTest {
    static final String SERVER_IP = "10.231.90.1";
    static final String OFFENDER_IP = "10.231.90.2";
    static final String NEIGHBOUR_IP = "10.231.90.3";
    static final int SMTP_PORT = 2525;
    static final Duration LIFETIME = Duration.ofSeconds(60);

    @Test
    void trapSenderIsBlockedInTheKernelRebuiltFromCassandraAndExpiresByTimeout() throws Exception {
        String why = Netns.whyNot();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        String tag = Long.toString(ProcessHandle.current().pid() % 100000);
        String srv = "stsrv" + tag;
        String cli = "stcli" + tag;
        Path dir = ProjectLayout.locate().root().resolve("it/target/fw-e2e");
        Dirs.deleteRecursively(dir);
        List<String> inServer = List.of("ip", "netns", "exec", srv);
        CassandraProcess cassandra = null;
        AgentProcess agent = null;
        JamesProcess james = null;
        try {
            Netns.must("ip", "netns", "add", srv);
            Netns.must("ip", "netns", "add", cli);
            Netns.must("ip", "link", "add", "sts" + tag, "type", "veth", "peer", "name", "stc" + tag);
            Netns.must("ip", "link", "set", "sts" + tag, "netns", srv);
            Netns.must("ip", "link", "set", "stc" + tag, "netns", cli);
            Netns.inMust(srv, "ip", "addr", "add", SERVER_IP + "/24", "dev", "sts" + tag);
            Netns.inMust(srv, "ip", "link", "set", "sts" + tag, "up");
            Netns.inMust(srv, "ip", "link", "set", "lo", "up");
            Netns.inMust(cli, "ip", "addr", "add", OFFENDER_IP + "/24", "dev", "stc" + tag);
            Netns.inMust(cli, "ip", "addr", "add", NEIGHBOUR_IP + "/24", "dev", "stc" + tag);
            Netns.inMust(cli, "ip", "link", "set", "stc" + tag, "up");
            Netns.inMust(cli, "ip", "link", "set", "lo", "up");

            cassandra = new CassandraProcess(dir.resolve("cassandra"), 19042, 17000).prefix(inServer).start(Duration.ofSeconds(240));
            agent = new AgentProcess(dir.resolve("agent")).prefix(inServer).ensureKey();
            Path agentKey = agent.keyFile();
            james = new JamesProcess(dir.resolve("james")).prefix(inServer).randomPorts().smtpPort(SMTP_PORT)
                .cassandra("127.0.0.1:19042")
                .edit("smtpserver.xml", s -> s.replace("<bind>127.0.0.1:" + SMTP_PORT + "</bind>", "<bind>0.0.0.0:" + SMTP_PORT + "</bind>")
                    .replace("<mode>tarpit</mode>", "<mode>refuse</mode>")
                    // this test checks James's own refusal at connect (the sample decides at MAIL FROM where AUTH is offered)
                    .replace("<checkAt>auto</checkAt>", "<checkAt>connect</checkAt>"))
                .spamtrapProperty("cassandra.keyspace", "fw_e2e")
                .spamtrapProperty("offender.lifetime", LIFETIME.getSeconds() + "s")
                .spamtrapProperty("refresh.interval", "1s")
                .spamtrapProperty("firewall.agent", "tcp:127.0.0.1:7625")
                .spamtrapProperty("firewall.keyFile", agentKey.toString())
                .prepare();
            Map<String, String> agentConf = Map.of("backend", "nftables", "ports", Integer.toString(SMTP_PORT),
                "listen.tcp", "127.0.0.1:7625", "reconcile.spamtrapConfig", james.conf().resolve("spamtrap.properties").toString(),
                "reconcile.interval", "1h");
            agent.configure(agentConf).start("127.0.0.1", 7625, Duration.ofSeconds(120));
            james.start(Duration.ofSeconds(240));

            assertThat(probe(cli, "connect", NEIGHBOUR_IP)).startsWith("CONNECTED 220");
            String replies = probe(cli, "trap", OFFENDER_IP);
            assertThat(replies).startsWith("REPLIES 220").contains("250 2.1.5 Recipient <trap@example.com> OK").doesNotContain("| 4").doesNotContain("| 5");

            Await.until(Duration.ofSeconds(30), "offender in the kernel set", () -> set(srv), s -> s.contains(OFFENDER_IP));
            assertThat(probe(cli, "connect", OFFENDER_IP)).as("blocked host").startsWith("NOCONNECT");
            assertThat(probe(cli, "connect", NEIGHBOUR_IP)).as("other host").startsWith("CONNECTED 220");

            // The agent goes away and the kernel set is lost (e.g. a reboot); James still refuses by itself.
            agent.close();
            Netns.inMust(srv, "nft", "flush", "set", "inet", "spamtrap", "block4");
            assertThat(probe(cli, "connect", OFFENDER_IP)).startsWith("CONNECTED 450").contains(OFFENDER_IP);
            agent.start("127.0.0.1", 7625, Duration.ofSeconds(120));
            Await.until(Duration.ofSeconds(60), "set rebuilt from Cassandra", () -> set(srv), s -> s.contains(OFFENDER_IP));
            assertThat(probe(cli, "connect", OFFENDER_IP)).as("blocked again after the rebuild").startsWith("NOCONNECT");
            assertThat(agent.log()).contains("Start-up rebuild");

            // Expiry happens in the kernel, with no agent running.
            agent.close();
            Await.until(LIFETIME.plusSeconds(30), "kernel timeout of the element", () -> set(srv), s -> !s.contains(OFFENDER_IP));
            assertThat(probe(cli, "connect", OFFENDER_IP)).as("welcome again").startsWith("CONNECTED");
        } finally {
            for (AutoCloseable c : new AutoCloseable[] {james, agent, cassandra}) {
                if (c != null) {
                    c.close();
                }
            }
            Netns.run(List.of("ip", "netns", "delete", cli));
            Netns.run(List.of("ip", "netns", "delete", srv));
        }
    }

    private static String set(String ns) {
        return Netns.run(Netns.in(ns, "nft", "list", "set", "inet", "spamtrap", "block4")).output;
    }

    /** Runs {@link FirewallProbe} in the client namespace, bound to {@code from}. */
    private static String probe(String ns, String mode, String from) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns,
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
            FirewallProbe.class.getName(), mode, from, SERVER_IP, Integer.toString(SMTP_PORT)));
        Netns.Result r = Netns.run(cmd);
        String out = r.output;
        int i = Math.max(out.lastIndexOf("REPLIES "), Math.max(out.lastIndexOf("CONNECTED "), out.lastIndexOf("NOCONNECT ")));
        return i >= 0 ? out.substring(i) : "PROBE FAILED (" + r.code + "): " + out;
    }
}
