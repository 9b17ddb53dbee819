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
 * ipset + iptables/ip6tables: two {@code hash:net} sets with timeout support (kernel-side expiry) and one
 * rule per family in INPUT that drops or rejects TCP to the SMTP ports from them. Changes are one
 * {@code ipset restore -exist} per batch; a rebuild fills a fresh set and swaps it in atomically.
 */
public final class IpsetBackend implements FirewallBackend {
    /** The longest timeout ipset accepts (about 24.8 days); a longer one fails the whole restore. */
    public static final long MAX_TIMEOUT_SECONDS = 2_147_483;

    private final CommandRunner runner;
    private final List<String> ipset;
    private final List<String> iptables;
    private final List<String> ip6tables;
    private final String set4;
    private final String set6;
    private final List<Integer> ports;
    private final boolean reject;
    private final int maxElements;
    private final Duration timeout;

    public IpsetBackend(CommandRunner runner, List<String> ipset, List<String> iptables, List<String> ip6tables, String set4, String set6,
                        List<Integer> ports, boolean reject, int maxElements, Duration timeout) {
        this.runner = runner;
        this.ipset = List.copyOf(ipset);
        this.iptables = List.copyOf(iptables);
        this.ip6tables = List.copyOf(ip6tables);
        this.set4 = set4;
        this.set6 = set6;
        this.ports = List.copyOf(ports);
        this.reject = reject;
        this.maxElements = maxElements;
        this.timeout = timeout;
    }

    @Override
    public String describe() {
        return "ipset sets " + set4 + "/" + set6 + " with iptables/ip6tables INPUT rules (" + (reject ? "reject" : "drop") + " tcp ports " + ports + ")";
    }

    private String create(String name, String family) {
        return "create " + name + " hash:net family " + family + " timeout 0 maxelem " + maxElements + "\n";
    }

    @Override
    public void start() throws BackendException {
        restore(create(set4, "inet") + create(set6, "inet6"), "create sets");
        ensureRule(iptables, set4);
        ensureRule(ip6tables, set6);
    }

    List<String> ruleSpec(String set) {
        List<String> spec = new ArrayList<>(List.of("INPUT", "-p", "tcp", "-m", "multiport", "--dports",
            ports.stream().map(String::valueOf).collect(Collectors.joining(",")),
            "-m", "conntrack", "--ctstate", "NEW", "-m", "set", "--match-set", set, "src", "-j"));
        if (reject) {
            spec.addAll(List.of("REJECT", "--reject-with", "tcp-reset"));
        } else {
            spec.add("DROP");
        }
        return spec;
    }

    private void ensureRule(List<String> tool, String set) throws BackendException {
        List<String> check = new ArrayList<>(tool);
        check.add("-C");
        check.addAll(ruleSpec(set));
        if (exec(check, null, "check rule").ok()) {
            return;
        }
        List<String> insert = new ArrayList<>(tool);
        insert.add("-I");
        List<String> spec = ruleSpec(set);
        insert.add(spec.get(0));
        insert.add("1");
        insert.addAll(spec.subList(1, spec.size()));
        CommandRunner.Result r = exec(insert, null, "insert rule");
        if (!r.ok()) {
            throw new BackendException(String.join(" ", insert) + " exited with " + r.exitCode() + ": " + r.output().strip());
        }
    }

    String applyScript(List<Op> ops) {
        StringBuilder s = new StringBuilder();
        for (Op op : ops) {
            String set = op.prefix().isIpv6() ? set6 : set4;
            if (op.kind() == Op.Kind.REMOVE) {
                s.append("del ").append(set).append(' ').append(op.prefix()).append('\n');
            } else {
                // with -exist an add of a present element resets its timeout
                s.append("add ").append(set).append(' ').append(op.prefix()).append(" timeout ").append(Math.min(op.ttlSeconds(), MAX_TIMEOUT_SECONDS)).append('\n');
            }
        }
        return s.toString();
    }

    @Override
    public void apply(List<Op> ops) throws BackendException {
        if (!ops.isEmpty()) {
            restore(applyScript(ops), ops.size() + " change(s)");
        }
    }

    String rebuildScript(Map<Prefix, Long> blocks) {
        String tmp4 = tmpName(set4);
        String tmp6 = tmpName(set6);
        StringBuilder s = new StringBuilder();
        s.append(create(tmp4, "inet")).append("flush ").append(tmp4).append('\n');
        s.append(create(tmp6, "inet6")).append("flush ").append(tmp6).append('\n');
        for (Map.Entry<Prefix, Long> e : blocks.entrySet()) {
            s.append("add ").append(e.getKey().isIpv6() ? tmp6 : tmp4).append(' ').append(e.getKey())
                .append(" timeout ").append(Math.min(Math.max(1, e.getValue()), MAX_TIMEOUT_SECONDS)).append('\n');
        }
        s.append("swap ").append(tmp4).append(' ').append(set4).append('\n');
        s.append("swap ").append(tmp6).append(' ').append(set6).append('\n');
        s.append("destroy ").append(tmp4).append('\n');
        s.append("destroy ").append(tmp6).append('\n');
        return s.toString();
    }

    /** ipset refuses a longer timeout (and with it the whole restore): the applier caps lifetimes at this, and so does every script. */
    @Override
    public long maxTimeoutSeconds() {
        return MAX_TIMEOUT_SECONDS;
    }

    static String tmpName(String set) {
        String base = set.length() > 26 ? set.substring(0, 26) : set;
        return base + "-new";
    }

    @Override
    public void rebuild(Map<Prefix, Long> blocks) throws BackendException {
        restore(rebuildScript(blocks), "rebuild with " + blocks.size() + " element(s)");
    }

    /** {@code ipset save <set>} of both sets: lines {@code add <set> <prefix> timeout <seconds left>}. */
    @Override
    public java.util.Optional<Map<Prefix, Long>> readBack() throws BackendException {
        Map<Prefix, Long> out = new java.util.HashMap<>();
        for (String set : List.of(set4, set6)) {
            List<String> argv = new ArrayList<>(ipset);
            argv.add("save");
            argv.add(set);
            CommandRunner.Result r;
            try {
                r = runner.run(argv, null, timeout, Integer.MAX_VALUE - 16);
            } catch (IOException e) {
                throw new BackendException(String.join(" ", argv) + " failed: " + e.getMessage(), e);
            }
            if (!r.ok()) {
                throw new BackendException(String.join(" ", argv) + " exited with " + r.exitCode() + ": " + r.output().strip());
            }
            for (String line : r.output().split("\n")) {
                String[] f = line.strip().split(" ");
                if (f.length < 3 || !"add".equals(f[0]) || !set.equals(f[1])) {
                    continue;
                }
                long left = Long.MAX_VALUE;
                for (int i = 3; i + 1 < f.length; i++) {
                    if ("timeout".equals(f[i])) {
                        left = Long.parseLong(f[i + 1]);
                    }
                }
                try {
                    out.put(Prefix.parse(f[2]), left);
                } catch (IllegalArgumentException e) {
                    throw new BackendException("cannot read '" + line.strip() + "' from " + String.join(" ", argv) + ": " + e.getMessage(), e);
                }
            }
        }
        return java.util.Optional.of(out);
    }

    @Override
    public boolean expiresInKernel() {
        return true;
    }

    private void restore(String script, String what) throws BackendException {
        List<String> argv = new ArrayList<>(ipset);
        argv.add("restore");
        argv.add("-exist");
        CommandRunner.Result r = exec(argv, script.getBytes(StandardCharsets.US_ASCII), what);
        if (!r.ok()) {
            throw new BackendException(String.join(" ", argv) + " (" + what + ") exited with " + r.exitCode() + ": " + r.output().strip());
        }
    }

    private CommandRunner.Result exec(List<String> argv, byte[] stdin, String what) throws BackendException {
        try {
            return runner.run(argv, stdin, timeout);
        } catch (IOException e) {
            throw new BackendException(String.join(" ", argv) + " (" + what + ") failed: " + e.getMessage(), e);
        }
    }
}
