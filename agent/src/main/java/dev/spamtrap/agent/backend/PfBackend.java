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
 * until the agent's start-up rebuild ({@code -T replace}). The deadlines are kept here, beside the commands that
 * wrote them, and {@link #sweepExpired()} deletes what is due: nothing the planner does with its view can skip a
 * delete. Deadlines are monotonic ({@code System.nanoTime}), so a wall-clock step neither keeps nor drops a block.
 */
public final class PfBackend implements FirewallBackend {
    private static final Logger LOGGER = LoggerFactory.getLogger(PfBackend.class);
    static final int ADDRESSES_PER_CALL = 500;

    private final CommandRunner runner;
    private final List<String> pfctl;
    private final String table;
    private final Duration timeout;
    private final java.util.function.LongSupplier nanoTime;
    /** What this backend put in the table and when it is due for deletion (monotonic nanos). */
    private final Map<Prefix, Long> deadlines = new java.util.HashMap<>();
    private final java.util.PriorityQueue<Map.Entry<Prefix, Long>> byDeadline = new java.util.PriorityQueue<>(Map.Entry.comparingByValue());

    public PfBackend(CommandRunner runner, List<String> pfctl, String table, Duration timeout) {
        this(runner, pfctl, table, timeout, System::nanoTime);
    }

    public PfBackend(CommandRunner runner, List<String> pfctl, String table, Duration timeout, java.util.function.LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
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
        long now = nanoTime.getAsLong();
        for (Op op : ops) {
            if (op.kind() == Op.Kind.REMOVE) {
                deadlines.remove(op.prefix());
            } else {
                due(op.prefix(), now + op.ttlSeconds() * 1_000_000_000L);
            }
        }
    }

    private void due(Prefix p, long deadline) {
        deadlines.put(p, deadline);
        byDeadline.add(Map.entry(p, deadline));
    }

    /** Deletes from the pf table every entry whose lifetime is over; returns how many. A failed delete is retried by the next sweep. */
    @Override
    public int sweepExpired() throws BackendException {
        long now = nanoTime.getAsLong();
        List<Prefix> due = new ArrayList<>();
        while (!byDeadline.isEmpty() && byDeadline.peek().getValue() - now <= 0) {
            Map.Entry<Prefix, Long> e = byDeadline.poll();
            if (e.getValue().equals(deadlines.get(e.getKey()))) {
                due.add(e.getKey());
            }
        }
        for (int i = 0; i < due.size(); i += ADDRESSES_PER_CALL) {
            List<Prefix> part = due.subList(i, Math.min(due.size(), i + ADDRESSES_PER_CALL));
            List<String> a = argv("-T", "delete");
            part.forEach(p -> a.add(p.toString()));
            try {
                check(a, exec(a, "delete " + part.size() + " expired address(es)"));
            } catch (BackendException e) {
                for (Prefix p : due.subList(i, due.size())) {
                    byDeadline.add(Map.entry(p, deadlines.get(p)));
                }
                throw e;
            }
            part.forEach(deadlines::remove);
        }
        if (!due.isEmpty()) {
            LOGGER.info("Deleted {} expired block(s) from pf table <{}> (pf has no per-entry lifetime)", due.size(), table);
        }
        return due.size();
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
            deadlines.clear();
            byDeadline.clear();
            long now = nanoTime.getAsLong();
            blocks.forEach((p, ttl) -> due(p, now + Math.max(1, ttl) * 1_000_000_000L));
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
