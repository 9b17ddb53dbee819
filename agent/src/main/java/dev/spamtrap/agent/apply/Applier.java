package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.backend.BackendException;
import dev.spamtrap.agent.backend.FirewallBackend;
import dev.spamtrap.agent.backend.Op;
import dev.spamtrap.agent.net.Prefix;
import dev.spamtrap.agent.safety.CircuitBreaker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The one thread that changes the firewall. Commands queue up while the backend is busy and are applied
 * together, up to {@code batchSize} per backend call (for nftables one {@code nft -f} transaction), so a
 * burst costs a few process starts instead of one per address. Owns the agent's view of the sets
 * ({@link BlockTable}) and the {@link CircuitBreaker}. Rebuilds from a snapshot run on this thread too, so they
 * never interleave with a batch; commands applied after the snapshot was read are merged into the rebuild.
 */
public final class Applier implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(Applier.class);
    private static final long SWEEP_MILLIS = 10_000;

    public enum Action { BLOCK, UNBLOCK }

    private static final class Change {
        final Action action;
        final Prefix prefix;
        final long ttlSeconds;
        final String origin;
        final CompletableFuture<Outcome> result = new CompletableFuture<>();
        final List<Op> ops = new ArrayList<>();
        Outcome outcome;

        Change(Action action, Prefix prefix, long ttlSeconds, String origin) {
            this.action = action;
            this.prefix = prefix;
            this.ttlSeconds = ttlSeconds;
            this.origin = origin;
        }
    }

    private static final class Rebuild {
        final Map<Prefix, Long> snapshot;
        final long loadStartedAt;
        final boolean startup;
        final CompletableFuture<RebuildReport> result = new CompletableFuture<>();

        Rebuild(Map<Prefix, Long> snapshot, long loadStartedAt, boolean startup) {
            this.snapshot = snapshot;
            this.loadStartedAt = loadStartedAt;
            this.startup = startup;
        }
    }

    private final FirewallBackend backend;
    private final CircuitBreaker breaker;
    private final Clock clock;
    private final int batchSize;
    private final long maxTtlSeconds;
    private final int maxEntries;
    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final BlockTable table = new BlockTable();
    private final Map<Prefix, Long> recentUnblocks = new HashMap<>();
    private volatile boolean closed;
    private volatile int size;
    private long lastSweep;

    public Applier(FirewallBackend backend, CircuitBreaker breaker, Clock clock, int batchSize, long maxTtlSeconds, int maxEntries) {
        this.backend = backend;
        this.breaker = breaker;
        this.clock = clock;
        this.batchSize = batchSize;
        this.maxTtlSeconds = maxTtlSeconds;
        this.maxEntries = maxEntries;
        this.thread = new Thread(this::run, "agent-applier");
        this.lastSweep = clock.millis();
    }

    public void start() {
        thread.start();
    }

    /** Queues a command; the future completes once the firewall has it (or it was refused). */
    public CompletableFuture<Outcome> submit(Action action, Prefix prefix, long ttlSeconds, String origin) {
        Change c = new Change(action, prefix, ttlSeconds, origin);
        if (closed) {
            c.result.complete(Outcome.refused("agent is shutting down"));
        } else {
            queue.add(c);
        }
        return c.result;
    }

    /**
     * Queues a rebuild of the sets from {@code snapshot} (prefix to expiry, epoch millis), read from the store
     * starting at {@code loadStartedAt}. At start-up ({@code startup}) the circuit breaker is bypassed: the
     * snapshot is state that already existed. Later rebuilds count prefixes new to the firewall against it.
     */
    public CompletableFuture<RebuildReport> rebuild(Map<Prefix, Long> snapshot, long loadStartedAt, boolean startup) {
        Rebuild r = new Rebuild(snapshot, loadStartedAt, startup);
        if (closed) {
            r.result.complete(new RebuildReport(false, 0, 0, 0, 0, 0, 0, 0, "agent is shutting down"));
        } else {
            queue.add(r);
        }
        return r.result;
    }

    /** Entries the agent believes are in the firewall (updated after each batch). */
    public int size() {
        return size;
    }

    private void run() {
        List<Object> work = new ArrayList<>();
        while (!closed) {
            try {
                Object first = queue.poll(1, TimeUnit.SECONDS);
                sweepIfDue();
                if (first == null) {
                    continue;
                }
                work.clear();
                work.add(first);
                queue.drainTo(work, batchSize * 4);
                List<Change> batch = new ArrayList<>();
                for (Object o : work) {
                    if (o instanceof Change) {
                        batch.add((Change) o);
                        if (batch.size() >= batchSize) {
                            applyBatch(batch);
                            batch = new ArrayList<>();
                        }
                    } else {
                        applyBatch(batch);
                        batch = new ArrayList<>();
                        doRebuild((Rebuild) o);
                    }
                }
                applyBatch(batch);
                size = table.size();
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException e) {
                LOGGER.error("Applier: unexpected error, continuing", e);
            }
        }
        for (Object o : queue) {
            if (o instanceof Change) {
                ((Change) o).result.complete(Outcome.refused("agent is shutting down"));
            } else {
                ((Rebuild) o).result.complete(new RebuildReport(false, 0, 0, 0, 0, 0, 0, 0, "agent is shutting down"));
            }
        }
    }

    private void plan(Change c, long now) {
        Prefix p = c.prefix;
        if (c.action == Action.UNBLOCK) {
            recentUnblocks.put(p, now);
            Prefix cover = table.covering(p, now);
            if (table.remove(p) != null) {
                c.ops.add(Op.remove(p));
                c.outcome = Outcome.applied("unblocked");
            } else if (cover != null) {
                c.outcome = Outcome.applied("not blocked by itself; it lies inside the blocked prefix " + cover + ", which stays blocked");
            } else {
                c.ops.add(Op.remove(p)); // harmless if absent; clears an entry the agent did not know about
                c.outcome = Outcome.applied("not blocked (removed if present)");
            }
            return;
        }
        long ttl = Math.min(c.ttlSeconds, maxTtlSeconds);
        long expiresAt = now + ttl * 1000;
        String capped = ttl < c.ttlSeconds ? " (capped at block.maxLifetime)" : "";
        if (table.get(p, now) != null) {
            c.ops.add(Op.refresh(p, ttl));
            table.put(p, expiresAt, now);
            c.outcome = Outcome.applied("block refreshed for " + ttl + " s" + capped);
            return;
        }
        Prefix cover = table.covering(p, now);
        if (cover != null) {
            c.outcome = Outcome.applied("already blocked as part of " + cover);
            return;
        }
        if (!breaker.tryAdmit(p.toString())) {
            c.outcome = Outcome.refused("circuit breaker open: more than " + breaker.maxPerMinute() + " new blocks per minute; " + p + " not blocked");
            return;
        }
        for (Prefix inner : table.contained(p, now)) {
            c.ops.add(Op.remove(inner));
            table.remove(inner);
        }
        c.ops.add(Op.add(p, ttl));
        table.put(p, expiresAt, now);
        c.outcome = Outcome.applied("blocked for " + ttl + " s" + capped);
    }

    private void applyBatch(List<Change> batch) {
        if (batch.isEmpty()) {
            return;
        }
        long now = clock.millis();
        List<Op> ops = new ArrayList<>();
        for (Change c : batch) {
            plan(c, now);
            ops.addAll(c.ops);
        }
        try {
            backend.apply(ops);
            finish(batch);
            return;
        } catch (BackendException e) {
            if (batch.size() == 1) {
                fail(batch.get(0), e);
                finish(batch);
                return;
            }
            LOGGER.warn("Batch of {} change(s) failed, applying them one by one: {}", batch.size(), e.getMessage());
        }
        for (Change c : batch) {
            try {
                backend.apply(c.ops);
            } catch (BackendException e) {
                fail(c, e);
            }
        }
        finish(batch);
    }

    private void fail(Change c, BackendException e) {
        LOGGER.error("Firewall change {} {} (from {}) failed: {}", c.action, c.prefix, c.origin, e.getMessage());
        if (c.action == Action.BLOCK && c.outcome.isApplied()) {
            table.remove(c.prefix);
        }
        c.outcome = Outcome.refused("firewall command failed: " + firstLine(e.getMessage()));
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private void finish(List<Change> batch) {
        size = table.size();
        for (Change c : batch) {
            c.result.complete(c.outcome);
        }
    }

    private void sweepIfDue() {
        long now = clock.millis();
        if (now - lastSweep < SWEEP_MILLIS) {
            return;
        }
        lastSweep = now;
        List<Prefix> expired = table.removeExpired(now);
        recentUnblocks.values().removeIf(t -> t < now - 3_600_000);
        if (expired.isEmpty() || backend.expiresInKernel()) {
            size = table.size();
            return;
        }
        List<Op> ops = new ArrayList<>();
        for (Prefix p : expired) {
            ops.add(Op.remove(p));
        }
        try {
            backend.apply(ops);
            LOGGER.info("Removed {} expired block(s) (this backend has no kernel-side expiry)", ops.size());
        } catch (BackendException e) {
            LOGGER.error("Removing {} expired block(s) failed: {}", ops.size(), e.getMessage());
        }
        size = table.size();
    }

    private void doRebuild(Rebuild r) {
        long started = clock.millis();
        long now = started;
        Map<Prefix, Long> desired = new HashMap<>();
        for (Map.Entry<Prefix, Long> e : r.snapshot.entrySet()) {
            Long unblockedAt = recentUnblocks.get(e.getKey());
            if (e.getValue() > now && (unblockedAt == null || unblockedAt < r.loadStartedAt)) {
                desired.merge(e.getKey(), e.getValue(), Math::max);
            }
        }
        for (Map.Entry<Prefix, BlockTable.Entry> e : table.entries().entrySet()) {
            if (e.getValue().changedAt >= r.loadStartedAt && e.getValue().expiresAt > now) {
                desired.merge(e.getKey(), e.getValue().expiresAt, Math::max);
            }
        }
        if (desired.size() > maxEntries) {
            String problem = desired.size() + " active offenders is more than reconcile.maxEntries (" + maxEntries
                + "); the firewall is left as it is";
            LOGGER.error("REBUILD REFUSED: {}", problem);
            r.result.complete(new RebuildReport(false, table.size(), 0, 0, 0, 0, 0, clock.millis() - started, problem));
            return;
        }
        List<Prefix> order = new ArrayList<>(desired.keySet());
        order.sort(Comparator.comparingInt(Prefix::length));
        BlockTable next = new BlockTable();
        Map<Prefix, Long> ttls = new LinkedHashMap<>();
        int covered = 0;
        int held = 0;
        int added = 0;
        int kept = 0;
        for (Prefix p : order) {
            if (next.covering(p, now) != null) {
                covered++;
                continue;
            }
            boolean known = table.get(p, now) != null;
            if (!known && !r.startup && !breaker.tryAdmit(p + " (reconcile)")) {
                held++;
                continue;
            }
            long exp = desired.get(p);
            BlockTable.Entry old = table.entries().get(p);
            next.put(p, exp, old != null ? old.changedAt : 0);
            ttls.put(p, (exp - now + 999) / 1000);
            if (known) {
                kept++;
            } else {
                added++;
            }
        }
        int removed = 0;
        for (Iterator<Prefix> it = table.entries().keySet().iterator(); it.hasNext(); ) {
            if (next.entries().get(it.next()) == null) {
                removed++;
            }
        }
        try {
            backend.rebuild(ttls);
        } catch (BackendException e) {
            LOGGER.error("Rebuild of the firewall sets failed, keeping them as they are: {}", e.getMessage());
            r.result.complete(new RebuildReport(false, table.size(), 0, 0, 0, 0, 0, clock.millis() - started, e.getMessage()));
            return;
        }
        table.clear();
        for (Map.Entry<Prefix, BlockTable.Entry> e : next.entries().entrySet()) {
            table.put(e.getKey(), e.getValue().expiresAt, e.getValue().changedAt);
        }
        size = table.size();
        RebuildReport report = new RebuildReport(true, ttls.size(), added, removed, kept, covered, held, clock.millis() - started, null);
        r.result.complete(report);
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
