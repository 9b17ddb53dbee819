package dev.spamtrap.it.firewall;

import dev.spamtrap.it.stack.AgentProcess;
import dev.spamtrap.it.stack.CassandraProcess;
import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.ProjectLayout;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Two hosts joined by a veth pair, in network namespaces of their own: a server host running a real Cassandra,
 * the firewall agent (nftables backend) and a real James with the drop-in jar, and a client host holding the
 * given addresses. James refuses offenders itself ({@code mode refuse}) and listens on every address of the
 * server host. Callers check {@link Netns#whyNot()} first; {@link #close()} stops the processes and deletes
 * both namespaces.
 */
public final class FirewalledServer implements AutoCloseable {
    public static final int SMTP_PORT = 2525;
    private static final int AGENT_PORT = 7625;

    private final String serverIp;
    private final String srv;
    private final String cli;
    private final List<String> inServer;
    private CassandraProcess cassandra;
    private AgentProcess agent;
    private JamesProcess james;

    /**
     * @param name a few letters naming the namespaces and links (with this JVM's pid)
     * @param subnet the first three octets of a /24 of our own, e.g. {@code 10.231.90}: the server is .1
     * @param clientIps the client host's addresses, in that /24
     */
    public FirewalledServer(String name, String subnet, String... clientIps) {
        String tag = Long.toString(ProcessHandle.current().pid() % 100000);
        this.serverIp = subnet + ".1";
        this.srv = name + "s" + tag;
        this.cli = name + "c" + tag;
        this.inServer = List.of("ip", "netns", "exec", srv);
        try {
            join(name + "vs" + tag, name + "vc" + tag, clientIps);
        } catch (RuntimeException e) {
            deleteNamespaces();
            throw e;
        }
    }

    private void join(String srvLink, String cliLink, String... clientIps) {
        Netns.must("ip", "netns", "add", srv);
        Netns.must("ip", "netns", "add", cli);
        Netns.must("ip", "link", "add", srvLink, "type", "veth", "peer", "name", cliLink);
        Netns.must("ip", "link", "set", srvLink, "netns", srv);
        Netns.must("ip", "link", "set", cliLink, "netns", cli);
        Netns.inMust(srv, "ip", "addr", "add", serverIp + "/24", "dev", srvLink);
        Netns.inMust(srv, "ip", "link", "set", srvLink, "up");
        Netns.inMust(srv, "ip", "link", "set", "lo", "up");
        for (String ip : clientIps) {
            Netns.inMust(cli, "ip", "addr", "add", ip + "/24", "dev", cliLink);
        }
        Netns.inMust(cli, "ip", "link", "set", cliLink, "up");
        Netns.inMust(cli, "ip", "link", "set", "lo", "up");
    }

    /**
     * Starts Cassandra, the agent and James in the server host, in the keyspace {@code keyspace}
     * (its work directory is under it/target). {@code jamesExtras} adds what the test needs (e.g. {@code spamtrapProperty}) before James is prepared.
     */
    public FirewalledServer start(String keyspace, int cassandraPort, int storagePort, UnaryOperator<JamesProcess> jamesExtras)
            throws IOException, InterruptedException {
        Path dir = ProjectLayout.locate().root().resolve("it/target/" + keyspace.replace('_', '-'));
        Dirs.deleteRecursively(dir);
        cassandra = new CassandraProcess(dir.resolve("cassandra"), cassandraPort, storagePort).prefix(inServer).start(Duration.ofSeconds(240));
        agent = new AgentProcess(dir.resolve("agent")).prefix(inServer).ensureKey();
        JamesProcess configured = new JamesProcess(dir.resolve("james")).prefix(inServer).randomPorts().smtpPort(SMTP_PORT)
            .cassandra("127.0.0.1:" + cassandraPort)
            .offenderMode("refuse")
            .edit("smtpserver.xml", s -> s.replace("<bind>127.0.0.1:" + SMTP_PORT + "</bind>", "<bind>0.0.0.0:" + SMTP_PORT + "</bind>"))
            .spamtrapProperty("cassandra.keyspace", keyspace)
            .spamtrapProperty("refresh.interval", "1s")
            .spamtrapProperty("firewall.agent", "tcp:127.0.0.1:" + AGENT_PORT)
            .spamtrapProperty("firewall.keyFile", agent.keyFile().toString());
        james = jamesExtras.apply(configured).prepare();
        startAgent();
        james.start(Duration.ofSeconds(240));
        return this;
    }

    /** (Re)starts the agent, reconciling from James's Cassandra settings only hourly: tests see the rebuild. */
    public void startAgent() throws IOException, InterruptedException {
        agent.configure(Map.of("backend", "nftables", "ports", Integer.toString(SMTP_PORT), "listen.tcp", "127.0.0.1:" + AGENT_PORT,
                "reconcile.spamtrapConfig", james.conf().resolve("spamtrap.properties").toString(), "reconcile.interval", "1h"))
            .start("127.0.0.1", AGENT_PORT, Duration.ofSeconds(120));
    }

    public AgentProcess agent() {
        return agent;
    }

    public JamesProcess james() {
        return james;
    }

    /** Runs a command in the server host and fails on a non-zero exit. */
    public String inServer(String... argv) {
        return Netns.inMust(srv, argv);
    }

    /** The agent's IPv4 block set as nft lists it. */
    public String blockSet() {
        return Netns.run(Netns.in(srv, "nft", "list", "set", "inet", "spamtrap", "block4")).output;
    }

    /** The agent's IPv4 prefix set (prefixes listed by escalation or by hand) as nft lists it. */
    public String wideSet() {
        return Netns.run(Netns.in(srv, "nft", "list", "set", "inet", "spamtrap", "wide4")).output;
    }

    /** WebAdmin listens inside the server host: curl from there; returns only the status code. */
    public String webAdmin(String method, String path) {
        return Netns.run(Netns.in(srv, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method,
            "http://127.0.0.1:" + james.webAdminPort() + path)).output;
    }

    /** A WebAdmin GET from inside the server host: the body. */
    public String webAdminGet(String path) {
        return Netns.run(Netns.in(srv, "curl", "-s", "http://127.0.0.1:" + james.webAdminPort() + path)).output;
    }

    /** Runs {@link FirewallProbe} in the client host, bound to {@code from}: its last verdict line. */
    public String probe(String mode, String from) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", cli,
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
            FirewallProbe.class.getName(), mode, from, serverIp, Integer.toString(SMTP_PORT)));
        Netns.Result r = Netns.run(cmd);
        String out = r.output;
        int i = Math.max(out.lastIndexOf("REPLIES "), Math.max(out.lastIndexOf("CONNECTED "), out.lastIndexOf("NOCONNECT ")));
        return i >= 0 ? out.substring(i) : "PROBE FAILED (" + r.code + "): " + out;
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {james, agent, cassandra}) {
            if (c != null) {
                c.close();
            }
        }
        deleteNamespaces();
    }

    private void deleteNamespaces() {
        Netns.run(List.of("ip", "netns", "delete", cli));
        Netns.run(List.of("ip", "netns", "delete", srv));
    }
}
