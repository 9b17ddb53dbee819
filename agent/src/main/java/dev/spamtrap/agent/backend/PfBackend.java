package dev.spamtrap.agent.backend;

import dev.spamtrap.agent.net.Prefix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * pf (OpenBSD, FreeBSD, macOS): a table filled with {@code pfctl -t <table> -T add/delete}; the block rule is the
 * administrator's, in pf.conf ({@code table <spamtrap> persist} and
 * {@code block in quick proto tcp from <spamtrap> to any port smtp}). pf tables have no per-entry lifetime:
 * the agent removes expired entries itself, so on pf a block outlives its lifetime while the agent is down,
 * until the agent's start-up rebuild ({@code -T replace}).
 */
public final class PfBackend implements FirewallBackend {
    private static final Logger LOGGER = LoggerFactory.getLogger(PfBackend.class);
    static final int ADDRESSES_PER_CALL = 500;

    private final CommandRunner runner;
    private final List<String> pfctl;
    private final String table;
    private final Duration timeout;

    public PfBackend(CommandRunner runner, List<String> pfctl, String table, Duration timeout) {
        this.runner = runner;
        this.pfctl = List.copyOf(pfctl);
        this.table = table;
        this.timeout = timeout;
    }

    @Override
    public String describe() {
        return "pf table <" + table + "> via '" + String.join(" ", pfctl) + "' (agent-side expiry)";
    }

    @Override
    public void start() throws BackendException {
        CommandRunner.Result r = exec(argv("-T", "show"), "show table");
        if (!r.ok()) {
            LOGGER.warn("pf table <{}> is not there yet ({}); it is created by the first block. Make sure pf.conf has "
                + "'table <{}> persist' and 'block in quick proto tcp from <{}> to any port smtp'", table, r.output().strip(), table, table, table);
        }
    }

    private List<String> argv(String... rest) {
        List<String> a = new ArrayList<>(pfctl);
        a.add("-q");
        a.add("-t");
        a.add(table);
        a.addAll(List.of(rest));
        return a;
    }

    @Override
    public void apply(List<Op> ops) throws BackendException {
        int i = 0;
        while (i < ops.size()) {
            boolean remove = ops.get(i).kind() == Op.Kind.REMOVE;
            List<String> a = argv("-T", remove ? "delete" : "add");
            int n = 0;
            while (i < ops.size() && (ops.get(i).kind() == Op.Kind.REMOVE) == remove && n < ADDRESSES_PER_CALL) {
                a.add(ops.get(i).prefix().toString());
                i++;
                n++;
            }
            check(a, exec(a, (remove ? "delete " : "add ") + n + " address(es)"));
        }
    }

    @Override
    public void rebuild(Map<Prefix, Long> blocks) throws BackendException {
        Path file = null;
        try {
            file = Files.createTempFile("spamtrap-pf-", ".txt",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            StringBuilder s = new StringBuilder();
            for (Prefix p : blocks.keySet()) {
                s.append(p).append('\n');
            }
            Files.write(file, s.toString().getBytes(StandardCharsets.US_ASCII));
            List<String> a = argv("-T", "replace", "-f", file.toString());
            check(a, exec(a, "replace with " + blocks.size() + " address(es)"));
        } catch (IOException e) {
            throw new BackendException("cannot write the pf table file: " + e.getMessage(), e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // temp file
                }
            }
        }
    }

    @Override
    public boolean expiresInKernel() {
        return false;
    }

    private void check(List<String> argv, CommandRunner.Result r) throws BackendException {
        if (!r.ok()) {
            throw new BackendException(String.join(" ", argv.subList(0, Math.min(argv.size(), 8))) + " ... exited with " + r.exitCode() + ": " + r.output().strip());
        }
    }

    private CommandRunner.Result exec(List<String> argv, String what) throws BackendException {
        try {
            return runner.run(argv, null, timeout);
        } catch (IOException e) {
            throw new BackendException(String.join(" ", pfctl) + " (" + what + ") failed: " + e.getMessage(), e);
        }
    }
}
