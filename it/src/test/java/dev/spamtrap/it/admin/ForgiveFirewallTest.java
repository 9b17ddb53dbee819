package dev.spamtrap.it.admin;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.firewall.FirewallProbe;
import dev.spamtrap.it.firewall.Netns;
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
 * Forgiving at the packet level, in network namespaces this test creates (as FirewallEndToEndTest): an
 * offender blocked in the kernel by the agent is forgiven with {@code DELETE /spamtrap/offenders/<ip>};
 * within seconds its element is gone from the nftables set and its next TCP connection gets James's greeting.
 * Skips, saying why, where namespaces or nft are not available.
 */
class ForgiveFirewallTest {
    static final String SERVER_IP = "10.231.91.1";
    static final String OFFENDER_IP = "10.231.91.2";
    static final int SMTP_PORT = 2525;

    @Test
    void forgivenOffenderIsUnblockedInTheKernelWithinSeconds() throws Exception {
        String why = Netns.whyNot();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        String tag = Long.toString(ProcessHandle.current().pid() % 100000);
        String srv = "stfs" + tag;
        String cli = "stfc" + tag;
        Path dir = ProjectLayout.locate().root().resolve("it/target/forgive-fw");
        Dirs.deleteRecursively(dir);
        List<String> inServer = List.of("ip", "netns", "exec", srv);
        CassandraProcess cassandra = null;
        AgentProcess agent = null;
        JamesProcess james = null;
        try {
            Netns.must("ip", "netns", "add", srv);
            Netns.must("ip", "netns", "add", cli);
            Netns.must("ip", "link", "add", "sfs" + tag, "type", "veth", "peer", "name", "sfc" + tag);
            Netns.must("ip", "link", "set", "sfs" + tag, "netns", srv);
            Netns.must("ip", "link", "set", "sfc" + tag, "netns", cli);
            Netns.inMust(srv, "ip", "addr", "add", SERVER_IP + "/24", "dev", "sfs" + tag);
            Netns.inMust(srv, "ip", "link", "set", "sfs" + tag, "up");
            Netns.inMust(srv, "ip", "link", "set", "lo", "up");
            Netns.inMust(cli, "ip", "addr", "add", OFFENDER_IP + "/24", "dev", "sfc" + tag);
            Netns.inMust(cli, "ip", "link", "set", "sfc" + tag, "up");
            Netns.inMust(cli, "ip", "link", "set", "lo", "up");

            cassandra = new CassandraProcess(dir.resolve("cassandra"), 19043, 17001).prefix(inServer).start(Duration.ofSeconds(240));
            agent = new AgentProcess(dir.resolve("agent")).prefix(inServer).ensureKey();
            james = new JamesProcess(dir.resolve("james")).prefix(inServer).randomPorts().smtpPort(SMTP_PORT)
                .cassandra("127.0.0.1:19043")
                .edit("smtpserver.xml", s -> s.replace("<bind>127.0.0.1:" + SMTP_PORT + "</bind>", "<bind>0.0.0.0:" + SMTP_PORT + "</bind>")
                    .replace("<mode>tarpit</mode>", "<mode>refuse</mode>"))
                .spamtrapProperty("cassandra.keyspace", "forgive_fw")
                .spamtrapProperty("refresh.interval", "1s")
                .spamtrapProperty("firewall.agent", "tcp:127.0.0.1:7625")
                .spamtrapProperty("firewall.keyFile", agent.keyFile().toString())
                .prepare();
            agent.configure(Map.of("backend", "nftables", "ports", Integer.toString(SMTP_PORT), "listen.tcp", "127.0.0.1:7625",
                    "reconcile.spamtrapConfig", james.conf().resolve("spamtrap.properties").toString(), "reconcile.interval", "1h"))
                .start("127.0.0.1", 7625, Duration.ofSeconds(120));
            james.start(Duration.ofSeconds(240));

            assertThat(probe(cli, "trap", OFFENDER_IP)).startsWith("REPLIES 220");
            Await.until(Duration.ofSeconds(90), "offender in the kernel set", () -> set(srv), s -> s.contains(OFFENDER_IP));
            assertThat(probe(cli, "connect", OFFENDER_IP)).as("blocked before").startsWith("NOCONNECT");

            String forgiven = curl(srv, "DELETE", "http://127.0.0.1:" + james.webAdminPort() + "/spamtrap/offenders/" + OFFENDER_IP);
            assertThat(forgiven).isEqualTo("204");
            Await.until(Duration.ofSeconds(15), "element removed from the kernel set", () -> set(srv), s -> !s.contains(OFFENDER_IP));
            assertThat(probe(cli, "connect", OFFENDER_IP)).as("welcome after").startsWith("CONNECTED 220");
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

    /** WebAdmin listens inside the server namespace: curl from there; prints only the status code. */
    private static String curl(String ns, String method, String url) {
        return Netns.run(Netns.in(ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method, url)).output;
    }

    private static String probe(String ns, String mode, String from) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns,
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
            FirewallProbe.class.getName(), mode, from, SERVER_IP, Integer.toString(SMTP_PORT)));
        String out = Netns.run(cmd).output;
        int i = Math.max(out.lastIndexOf("REPLIES "), Math.max(out.lastIndexOf("CONNECTED "), out.lastIndexOf("NOCONNECT ")));
        return i >= 0 ? out.substring(i) : "PROBE FAILED: " + out;
    }
}
