package dev.spamtrap.agent.backend;

import dev.spamtrap.agent.net.Prefix;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * nftables: a table (default {@code inet spamtrap}) with sets {@code block4} and {@code block6}
 * ({@code flags interval, timeout}: prefixes and per-element lifetimes, expired by the kernel even while the
 * agent is down) and an input chain that drops or rejects TCP to the SMTP ports from them.
 * Every change is an {@code nft -f -} script fed on standard input, so a batch and a rebuild are each one
 * atomic transaction.
 */
public final class NftablesBackend implements FirewallBackend {
    /** Elements per {@code add element} statement in a script. */
    static final int ELEMENTS_PER_STATEMENT = 1000;

    private final CommandRunner runner;
    private final List<String> nft;
    private final String table;
    private final List<Integer> ports;
    private final boolean reject;
    private final Duration timeout;

    /**
     * @param nftCommand the nft argv prefix, e.g. {@code [nft]} or {@code [ip, netns, exec, NS, nft]}
     */
    public NftablesBackend(CommandRunner runner, List<String> nftCommand, String table, List<Integer> ports, boolean reject, Duration timeout) {
        this.runner = runner;
        this.nft = List.copyOf(nftCommand);
        this.table = table;
        this.ports = List.copyOf(ports);
        this.reject = reject;
        this.timeout = timeout;
    }

    @Override
    public String describe() {
        return "nftables table inet " + table + " (sets block4, block6; " + (reject ? "reject" : "drop") + " tcp ports " + ports + ") via '"
            + String.join(" ", nft) + "'";
    }

    String setupScript() {
        String t = "inet " + table;
        String portSet = "{ " + ports.stream().map(String::valueOf).collect(Collectors.joining(", ")) + " }";
        String verdict = reject ? "reject with tcp reset" : "drop";
        return "add table " + t + "\n"
            + "add set " + t + " block4 { type ipv4_addr; flags interval, timeout; }\n"
            + "add set " + t + " block6 { type ipv6_addr; flags interval, timeout; }\n"
            + "add chain " + t + " input { type filter hook input priority filter - 10; policy accept; }\n"
            + "flush chain " + t + " input\n"
            // Only new connections: a conversation already under way (a trapped delivery finishing, a tarpitted
            // client) is not cut mid-reply, which would tell the client that its last recipient was special.
            + "add rule " + t + " input tcp dport " + portSet + " ct state new ip saddr @block4 counter " + verdict + "\n"
            + "add rule " + t + " input tcp dport " + portSet + " ct state new ip6 saddr @block6 counter " + verdict + "\n";
    }

    @Override
    public void start() throws BackendException {
        run(setupScript(), "create table and sets");
    }

    String applyScript(List<Op> ops) {
        StringBuilder s = new StringBuilder(ops.size() * 48);
        List<Op> adds = new ArrayList<>();
        for (Op op : ops) {
            if (op.kind() == Op.Kind.ADD) {
                adds.add(op);
                continue;
            }
            flushAdds(s, adds);
            String set = setOf(op.prefix());
            // add (a no-op if present) then delete: never fails on a missing element, e.g. one just expired in the kernel
            s.append("add element inet ").append(table).append(' ').append(set).append(" { ").append(op.prefix()).append(" }\n");
            s.append("delete element inet ").append(table).append(' ').append(set).append(" { ").append(op.prefix()).append(" }\n");
            if (op.kind() == Op.Kind.REFRESH) {
                s.append("add element inet ").append(table).append(' ').append(set).append(" { ").append(op.prefix())
                    .append(" timeout ").append(op.ttlSeconds()).append("s }\n");
            }
        }
        flushAdds(s, adds);
        return s.toString();
    }

    private void flushAdds(StringBuilder s, List<Op> adds) {
        for (String set : List.of("block4", "block6")) {
            List<String> elements = new ArrayList<>();
            for (Op op : adds) {
                if (setOf(op.prefix()).equals(set)) {
                    elements.add(op.prefix() + " timeout " + op.ttlSeconds() + "s");
                }
            }
            appendElements(s, set, elements);
        }
        adds.clear();
    }

    private void appendElements(StringBuilder s, String set, List<String> elements) {
        for (int i = 0; i < elements.size(); i += ELEMENTS_PER_STATEMENT) {
            s.append("add element inet ").append(table).append(' ').append(set).append(" { ");
            s.append(String.join(", ", elements.subList(i, Math.min(elements.size(), i + ELEMENTS_PER_STATEMENT))));
            s.append(" }\n");
        }
    }

    @Override
    public void apply(List<Op> ops) throws BackendException {
        if (ops.isEmpty()) {
            return;
        }
        run(applyScript(ops), ops.size() + " change(s)");
    }

    String rebuildScript(Map<Prefix, Long> blocks) {
        StringBuilder s = new StringBuilder(setupScript());
        s.append("flush set inet ").append(table).append(" block4\n");
        s.append("flush set inet ").append(table).append(" block6\n");
        List<String> v4 = new ArrayList<>();
        List<String> v6 = new ArrayList<>();
        for (Map.Entry<Prefix, Long> e : blocks.entrySet()) {
            (e.getKey().isIpv6() ? v6 : v4).add(e.getKey() + " timeout " + Math.max(1, e.getValue()) + "s");
        }
        appendElements(s, "block4", v4);
        appendElements(s, "block6", v6);
        return s.toString();
    }

    @Override
    public void rebuild(Map<Prefix, Long> blocks) throws BackendException {
        run(rebuildScript(blocks), "rebuild with " + blocks.size() + " element(s)");
    }

    @Override
    public boolean expiresInKernel() {
        return true;
    }

    private static String setOf(Prefix p) {
        return p.isIpv6() ? "block6" : "block4";
    }

    private void run(String script, String what) throws BackendException {
        List<String> argv = new ArrayList<>(nft);
        argv.add("-f");
        argv.add("-");
        CommandRunner.Result r;
        try {
            r = runner.run(argv, script.getBytes(StandardCharsets.US_ASCII), timeout);
        } catch (IOException e) {
            throw new BackendException(String.join(" ", argv) + " (" + what + ") failed: " + e.getMessage(), e);
        }
        if (!r.ok()) {
            String out = r.output().strip();
            throw new BackendException(String.join(" ", argv) + " (" + what + ") exited with " + r.exitCode() + ": "
                + (out.length() > 2000 ? out.substring(0, 2000) + "..." : out));
        }
    }
}
