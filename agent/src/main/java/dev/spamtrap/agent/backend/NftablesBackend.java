package dev.spamtrap.agent.backend;

import dev.spamtrap.agent.net.Prefix;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * nftables: table {@code inet <table>} with four sets shaped for the data, so that no element can overlap
 * another in the same set and one bad element never fails a batch:
 * <ul>
 *   <li>{@code block4}: single IPv4 addresses (hash, {@code flags timeout});</li>
 *   <li>{@code block6}: IPv6 /64 networks (hash, {@code flags timeout}), matched by the source address masked to /64;</li>
 *   <li>{@code wide4}, {@code wide6}: every other prefix ({@code flags interval, timeout}); overlaps there are
 *       resolved by the agent's own view before anything reaches nft.</li>
 * </ul>
 * One chain {@code prerouting} (hook prerouting, priority -150: after conntrack, before DNAT) drops or rejects new
 * TCP connections to the SMTP ports from them, so traffic to the host and traffic forwarded to containers through
 * published ports are both covered, and the port matched is the published one. Elements carry kernel timeouts.
 * Every change is an {@code nft -f -} script on standard input: a batch, a reconcile difference and a rebuild are
 * each one atomic transaction. Rebuilds and reconciles never touch the chain, so its counters survive them.
 */
public final class NftablesBackend implements FirewallBackend {
    /** Elements per {@code add element} statement in a script. */
    static final int ELEMENTS_PER_STATEMENT = 1000;
    static final List<String> SETS = List.of("block4", "block6", "wide4", "wide6");

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
        return "nftables table inet " + table + " (sets block4, block6 /64, wide4, wide6; hook prerouting; " + (reject ? "reject" : "drop")
            + " tcp ports " + ports + ") via '" + String.join(" ", nft) + "'";
    }

    private String objectsScript() {
        String t = "inet " + table;
        return "add table " + t + "\n"
            + "add set " + t + " block4 { type ipv4_addr; flags timeout; }\n"
            + "add set " + t + " block6 { type ipv6_addr; flags timeout; }\n"
            + "add set " + t + " wide4 { type ipv4_addr; flags interval, timeout; }\n"
            + "add set " + t + " wide6 { type ipv6_addr; flags interval, timeout; }\n"
            + "add chain " + t + " prerouting { type filter hook prerouting priority -150; policy accept; }\n";
    }

    /** The rule that drops (or rejects) new SMTP connections from the addresses in {@code set}. */
    private String ruleFor(String set) {
        String portSet = "{ " + ports.stream().map(String::valueOf).collect(Collectors.joining(", ")) + " }";
        String verdict = reject ? "reject with tcp reset" : "drop";
        // Only new connections: a conversation already under way (a trapped delivery finishing, a tarpitted
        // client) is not cut mid-reply, which would tell the client that its last recipient was special.
        String match = "add rule inet " + table + " prerouting tcp dport " + portSet + " ct state new ";
        switch (set) {
            case "block4":
                return match + "ip saddr @block4 counter " + verdict + "\n";
            case "wide4":
                return match + "ip saddr @wide4 counter " + verdict + "\n";
            case "block6":
                return match + "ip6 saddr & ffff:ffff:ffff:ffff:: @block6 counter " + verdict + "\n";
            default:
                return match + "ip6 saddr @wide6 counter " + verdict + "\n";
        }
    }

    String setupScript() {
        StringBuilder s = new StringBuilder(objectsScript()).append("flush chain inet ").append(table).append(" prerouting\n");
        for (String set : List.of("block4", "wide4", "block6", "wide6")) {
            s.append(ruleFor(set));
        }
        return s.toString();
    }

    @Override
    public void start() throws BackendException {
        try {
            run(setupScript(), "create table and sets");
        } catch (BackendException e) {
            if (!e.getMessage().contains("File exists")) {
                throw e;
            }
            // a set of the same name with other flags: the previous layout (interval sets block4/block6, chain
            // input), which cannot be altered in place. Listing it to be sure would take a minute at a million
            // entries; any "File exists" here means a set of ours differs, so the table is recreated.
            run("delete table inet " + table + "\n", "remove the table of the previous layout");
            run(setupScript(), "create table and sets");
        }
    }

    /**
     * Whether the table is still there. Deliberately not {@code nft list ...}: any listing makes nft fetch every
     * element of every set (over two minutes at a million entries, measured). {@code create table} costs a few
     * milliseconds: it fails with "File exists" when the table is there, and otherwise creates it empty (the
     * applier then sets it up and refills it).
     */
    @Override
    public boolean isPresent() throws BackendException {
        CommandRunner.Result r;
        try {
            r = runner.run(argv("create", "table", "inet", table), null, timeout);
        } catch (IOException e) {
            throw new BackendException("cannot ask nft whether table inet " + table + " exists: " + e.getMessage(), e);
        }
        if (r.ok()) {
            return false;
        }
        if (r.output().contains("File exists")) {
            return true;
        }
        throw new BackendException("nft create table inet " + table + " exited with " + r.exitCode() + ": " + r.output().strip());
    }

    private List<String> argv(String... args) {
        List<String> a = new ArrayList<>(nft);
        a.addAll(List.of(args));
        return a;
    }

    /**
     * The ops as one script, in their order. Adds are grouped per set; so is each run of removals or refreshes, written
     * as one statement per verb and set for up to {@link #ELEMENTS_PER_STATEMENT} elements (nft parses a statement of
     * a thousand elements far faster than a thousand statements: a reconcile's 5,000 removals took 0.16 s one by one).
     */
    String applyScript(List<Op> ops) {
        StringBuilder s = new StringBuilder(ops.size() * 48);
        List<Op> adds = new ArrayList<>();
        Map<String, Map<Prefix, Op>> run = new LinkedHashMap<>();
        Op.Kind runKind = null;
        for (Op op : ops) {
            if (op.kind() == Op.Kind.ADD) {
                flushRun(s, runKind, run);
                adds.add(op);
                continue;
            }
            flushAdds(s, adds);
            if (runKind != op.kind()) {
                flushRun(s, runKind, run);
                runKind = op.kind();
            }
            run.computeIfAbsent(setOf(op.prefix()), k -> new LinkedHashMap<>()).put(op.prefix(), op); // one element once: the last lifetime wins
        }
        flushRun(s, runKind, run);
        flushAdds(s, adds);
        return s.toString();
    }

    /**
     * A run of removals (or refreshes): add (a no-op where present) then delete, so that a missing element, e.g. one
     * just expired in the kernel, never fails the batch; a refresh then adds the element again with its new timeout.
     */
    private void flushRun(StringBuilder s, Op.Kind kind, Map<String, Map<Prefix, Op>> run) {
        for (Map.Entry<String, Map<Prefix, Op>> e : run.entrySet()) {
            List<Op> ops = new ArrayList<>(e.getValue().values());
            for (int i = 0; i < ops.size(); i += ELEMENTS_PER_STATEMENT) {
                List<Op> part = ops.subList(i, Math.min(ops.size(), i + ELEMENTS_PER_STATEMENT));
                statement(s, "add", e.getKey(), part, false);
                statement(s, "delete", e.getKey(), part, false);
                if (kind == Op.Kind.REFRESH) {
                    statement(s, "add", e.getKey(), part, true);
                }
            }
        }
        run.clear();
    }

    private void statement(StringBuilder s, String verb, String set, List<Op> ops, boolean withTimeout) {
        s.append(verb).append(" element inet ").append(table).append(' ').append(set).append(" { ");
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            s.append(i == 0 ? "" : ", ").append(key(op.prefix()));
            if (withTimeout) {
                s.append(" timeout ").append(Math.max(1, op.ttlSeconds())).append('s');
            }
        }
        s.append(" }\n");
    }

    private void flushAdds(StringBuilder s, List<Op> adds) {
        if (adds.isEmpty()) {
            return;
        }
        Map<String, List<Op>> bySet = new LinkedHashMap<>();
        for (Op op : adds) {
            bySet.computeIfAbsent(setOf(op.prefix()), k -> new ArrayList<>()).add(op);
        }
        bySet.forEach((set, ops) -> {
            for (int i = 0; i < ops.size(); i += ELEMENTS_PER_STATEMENT) {
                statement(s, "add", set, ops.subList(i, Math.min(ops.size(), i + ELEMENTS_PER_STATEMENT)), true);
            }
        });
        adds.clear();
    }

    /** A /64 goes into the hash set block6 as its network address; everything else as written. */
    static String key(Prefix p) {
        return p.isIpv6() && p.length() == 64 ? p.address() : p.toString();
    }

    @Override
    public void apply(List<Op> ops) throws BackendException {
        if (ops.isEmpty()) {
            return;
        }
        // nft refuses an interval element overlapping one deleted earlier in the same transaction, so when a broader
        // prefix replaces narrower ones, the removals from the interval sets go first, in their own transaction
        List<Op> wideRemovals = new ArrayList<>();
        boolean wideAdds = false;
        for (Op op : ops) {
            boolean wide = setOf(op.prefix()).startsWith("wide");
            if (wide && op.kind() == Op.Kind.REMOVE) {
                wideRemovals.add(op);
            } else if (wide) {
                wideAdds = true;
            }
        }
        if (!wideRemovals.isEmpty() && wideAdds) {
            run(applyScript(wideRemovals), wideRemovals.size() + " removal(s) from the interval sets");
            List<Op> rest = new ArrayList<>(ops);
            rest.removeAll(wideRemovals);
            ops = rest;
        }
        run(applyScript(ops), ops.size() + " change(s)");
    }

    String rebuildScript(Map<Prefix, Long> blocks) {
        StringBuilder s = new StringBuilder(blocks.size() * 40 + 1024);
        s.append(setupScript());
        for (String set : SETS) {
            s.append("flush set inet ").append(table).append(' ').append(set).append('\n');
        }
        // written straight into the script, set by set: no intermediate string per element (a million of them)
        for (String set : SETS) {
            int inStatement = 0;
            for (Map.Entry<Prefix, Long> e : blocks.entrySet()) {
                if (!setOf(e.getKey()).equals(set)) {
                    continue;
                }
                if (inStatement == 0) {
                    s.append("add element inet ").append(table).append(' ').append(set).append(" { ");
                } else {
                    s.append(", ");
                }
                s.append(key(e.getKey())).append(" timeout ").append(Math.max(1, e.getValue())).append('s');
                if (++inStatement == ELEMENTS_PER_STATEMENT) {
                    s.append(" }\n");
                    inStatement = 0;
                }
            }
            if (inStatement > 0) {
                s.append(" }\n");
            }
        }
        return s.toString();
    }

    @Override
    public void rebuild(Map<Prefix, Long> blocks) throws BackendException {
        run(rebuildScript(blocks), "rebuild with " + blocks.size() + " element(s)");
    }

    /** {@code nft -j list set} of each set, parsed as it streams in: about 1 s per 100,000 elements. */
    @Override
    public java.util.Optional<Map<Prefix, Long>> readBack() throws BackendException {
        Map<Prefix, Long> out = new java.util.HashMap<>();
        int skipped = 0;
        for (String set : SETS) {
            List<String> argv = argv("-j", "list", "set", "inet", table, set);
            CommandRunner.Result r;
            try {
                r = runner.run(argv, null, timeout, Integer.MAX_VALUE - 16);
            } catch (IOException e) {
                throw new BackendException(String.join(" ", argv) + " failed: " + e.getMessage(), e);
            }
            if (!r.ok()) {
                throw new BackendException(String.join(" ", argv) + " exited with " + r.exitCode() + ": " + firstLines(r.output()));
            }
            try {
                skipped += NftSetListing.read(r.output(), "block6".equals(set) ? 64 : 0, out);
            } catch (IOException | IllegalArgumentException e) {
                throw new BackendException("cannot read the output of " + String.join(" ", argv) + ": " + e.getMessage(), e);
            }
        }
        if (skipped > 0) {
            org.slf4j.LoggerFactory.getLogger(NftablesBackend.class).warn("{} element(s) of table inet {} are ranges, not prefixes: not written by "
                + "the agent, left alone", skipped, table);
        }
        return java.util.Optional.of(out);
    }

    private static String firstLines(String out) {
        String s = out.strip();
        return s.length() > 2000 ? s.substring(0, 2000) + "..." : s;
    }

    /**
     * One {@code nft -j list table}: sets with their elements, chain and rules. nft 1.0.6 fetches every element
     * of every set for any listing, {@code nft get element} included (0.5 s at 100,000 elements, measured), so one
     * listing of everything costs no more than a sentinel check.
     */
    @Override
    public java.util.Optional<KernelState> inspect() throws BackendException {
        List<String> argv = argv("-j", "list", "table", "inet", table);
        CommandRunner.Result r;
        try {
            r = runner.run(argv, null, timeout, Integer.MAX_VALUE - 16);
        } catch (IOException e) {
            throw new BackendException(String.join(" ", argv) + " failed: " + e.getMessage(), e);
        }
        if (!r.ok()) {
            if (r.output().contains("No such file or directory")) {
                return java.util.Optional.of(KernelState.tableGone());
            }
            throw new BackendException(String.join(" ", argv) + " exited with " + r.exitCode() + ": " + firstLines(r.output()));
        }
        NftTableListing listing;
        try {
            listing = NftTableListing.read(r.output(), "prerouting");
        } catch (IOException | IllegalArgumentException e) {
            throw new BackendException("cannot read the output of " + String.join(" ", argv) + ": " + e.getMessage(), e);
        }
        java.util.Set<String> missing = new java.util.TreeSet<>();
        for (String set : SETS) {
            if (!listing.sets.contains(set)) {
                missing.add("set " + set);
            }
            if (!listing.ruleSets.contains(set)) {
                missing.add("rule @" + set);
            }
        }
        if (!listing.chains.contains("prerouting")) {
            missing.add("chain prerouting");
        }
        return java.util.Optional.of(new KernelState(true, missing, listing.elements));
    }

    /** Adds the missing sets, chain and rules only: rules still there keep their handles and counters. */
    @Override
    public void restoreObjects(KernelState found) throws BackendException {
        StringBuilder s = new StringBuilder(objectsScript());
        for (String set : SETS) {
            if (found.missingObjects().contains("rule @" + set)) {
                s.append(ruleFor(set));
            }
        }
        run(s.toString(), "restore " + found.missingObjects());
    }

    @Override
    public boolean expiresInKernel() {
        return true;
    }

    static String setOf(Prefix p) {
        if (p.isIpv6()) {
            return p.length() == 64 ? "block6" : "wide6";
        }
        return p.length() == 32 ? "block4" : "wide4";
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
