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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The one thread that changes the firewall. Commands queue up while the backend is busy and are applied
 * together, up to {@code batchSize} per backend call (for nftables one {@code nft -f} transaction). A failed
 * batch is split in halves until only the bad change is left out; the kernel is then resynchronised with the
 * agent's view so that the two never diverge. Rebuilds and reconciles run on this thread too, so they never
 * interleave with a batch, and the backend's objects are checked every second and restored at once if they
 * disappeared (e.g. {@code nft flush ruleset}). Planning lives in {@link ChangePlanner} and {@link ReconcilePlanner}.
 */
public final class Applier implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(Applier.class);
    private static final long SWEEP_MILLIS = 10_000;
    private static final long WATCH_MILLIS = 1_000;

    public enum Action { BLOCK, UNBLOCK }

    private static final class Rebuild {
        final List<Wanted> snapshot;
        final long loadStartedAt;
        final boolean startup;
        final CompletableFuture<RebuildReport> result = new CompletableFuture<>();

        Rebuild(List<Wanted> snapshot, long loadStartedAt, boolean startup) {
            this.snapshot = snapshot;
            this.loadStartedAt = loadStartedAt;
            this.startup = startup;
        }
    }

    private final FirewallBackend backend;
    private final CircuitBreaker breaker;
    private final Clock clock;
    private final int batchSize;
    private final int maxEntries;
    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final BlockTable table = new BlockTable();
    private final Map<Prefix, Long> recentUnblocks = new HashMap<>();
    private final ChangePlanner changes;
    private final ReconcilePlanner reconciles;
    private final AgentStats stats;
    private volatile boolean closed;
    private volatile int size;
    private long lastSweep;
    private long lastWatch;
    private boolean resyncNeeded;

    public Applier(FirewallBackend backend, CircuitBreaker breaker, Clock clock, int batchSize, long maxTtlSeconds, int maxEntries) {
        this(backend, breaker, clock, batchSize, maxTtlSeconds, maxEntries, new AgentStats());
    }

    public Applier(FirewallBackend backend, CircuitBreaker breaker, Clock clock, int batchSize, long maxTtlSeconds, int maxEntries, AgentStats stats) {
        this.backend = backend;
        this.breaker = breaker;
        this.clock = clock;
        this.batchSize = batchSize;
        this.maxEntries = maxEntries;
        this.stats = stats;
        this.changes = new ChangePlanner(table, breaker, maxTtlSeconds, recentUnblocks);
        this.reconciles = new ReconcilePlanner(maxTtlSeconds, breaker.maxPerMinute());
        this.thread = new Thread(this::run, "agent-applier");
        this.lastSweep = clock.millis();
        this.lastWatch = lastSweep;
    }

    public void start() {
        thread.start();
    }

    public AgentStats stats() {
        return stats;
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
     * Queues a rebuild ({@code startup}: flush and refill in one transaction, since the kernel's old content is
     * unknown to the agent) or a reconcile (only the difference from the agent's view, in one transaction) from
     * {@code snapshot}, read from the store starting at {@code loadStartedAt}. Both pass the same rails.
     */
    public CompletableFuture<RebuildReport> rebuild(List<Wanted> snapshot, long loadStartedAt, boolean startup) {
        Rebuild r = new Rebuild(snapshot, loadStartedAt, startup);
        if (closed) {
            r.result.complete(RebuildReport.failed(0, 0, "agent is shutting down"));
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
                Object first = queue.poll(WATCH_MILLIS, TimeUnit.MILLISECONDS);
                housekeeping();
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
                ((Rebuild) o).result.complete(RebuildReport.failed(0, 0, "agent is shutting down"));
            }
        }
    }

    private void applyBatch(List<Change> batch) {
        if (batch.isEmpty()) {
            return;
        }
        long now = clock.millis();
        for (Change c : batch) {
            changes.plan(c, now);
        }
        applyOrSplit(batch);
        if (resyncNeeded) {
            resync("a change failed");
        }
        size = table.size();
        for (Change c : batch) {
            stats.count(c.outcome);
            c.result.complete(c.outcome);
        }
    }

    /** Applies the ops of these changes in one call; on failure, halves until the bad change is alone. */
    private void applyOrSplit(List<Change> part) {
        List<Op> ops = new ArrayList<>();
        for (Change c : part) {
            ops.addAll(c.ops);
        }
        if (ops.isEmpty()) {
            return;
        }
        try {
            backend.apply(ops);
            return;
        } catch (BackendException e) {
            if (part.size() == 1) {
                fail(part.get(0), e);
                return;
            }
            LOGGER.warn("Batch of {} change(s) failed, splitting it to leave out the bad one: {}", part.size(), firstLine(e.getMessage()));
        }
        int half = part.size() / 2;
        applyOrSplit(part.subList(0, half));
        applyOrSplit(part.subList(half, part.size()));
    }

    private void fail(Change c, BackendException e) {
        LOGGER.error("Firewall change {} {} (from {}) failed: {}", c.action, c.prefix, c.origin, e.getMessage());
        if (c.action == Action.BLOCK && c.outcome.isApplied()) {
            table.remove(c.prefix);
        }
        resyncNeeded = true;
        c.outcome = Outcome.refused("firewall command failed: " + firstLine(e.getMessage()));
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Makes the kernel hold exactly the agent's view again (one transaction). */
    private void resync(String why) {
        long now = clock.millis();
        table.removeExpired(now);
        Map<Prefix, Long> ttls = ttls(table, now);
        try {
            backend.rebuild(ttls);
            resyncNeeded = false;
            LOGGER.warn("Firewall resynchronised with the agent's view ({} entries) because {}", ttls.size(), why);
        } catch (BackendException e) {
            LOGGER.error("Resynchronising the firewall ({}) failed, will retry: {}", why, e.getMessage());
        }
    }

    /** Remaining lifetimes (seconds) of a view's entries, for a full rebuild. */
    private static Map<Prefix, Long> ttls(BlockTable view, long now) {
        Map<Prefix, Long> out = new HashMap<>(view.size() * 2);
        view.entries().forEach((p, e) -> out.put(p, (e.expiresAt - now + 999) / 1000));
        return out;
    }

    private void housekeeping() {
        long now = clock.millis();
        if (now - lastWatch >= WATCH_MILLIS) {
            lastWatch = now;
            watch();
        }
        if (resyncNeeded) {
            resync("an earlier resynchronisation failed");
        }
        if (now - lastSweep < SWEEP_MILLIS) {
            return;
        }
        lastSweep = now;
        List<Prefix> expired = table.removeExpired(now);
        recentUnblocks.values().removeIf(t -> t < now - 3_600_000);
        size = table.size();
        if (expired.isEmpty() || backend.expiresInKernel()) {
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
    }

    /** Restores the backend's table and sets at once if something removed them. */
    private void watch() {
        try {
            if (backend.isPresent()) {
                return;
            }
            LOGGER.error("FIREWALL TABLE GONE ({}); restoring it with {} entries now", backend.describe(), table.size());
            backend.start();
            stats.tableRestored();
            resync("the firewall table had disappeared");
        } catch (BackendException e) {
            LOGGER.error("Checking or restoring the firewall table failed: {}", e.getMessage());
        }
    }

    private void doRebuild(Rebuild r) {
        long started = clock.millis();
        long now = started;
        List<Wanted> desired = r.snapshot;
        if (!recentUnblocks.isEmpty()) {
            // what an administrator unblocked while the store was being read stays out
            desired = new ArrayList<>(desired);
            desired.removeIf(w -> {
                Long unblockedAt = recentUnblocks.get(w.prefix);
                return unblockedAt != null && unblockedAt >= r.loadStartedAt;
            });
        }
        if (desired.size() > maxEntries) {
            String problem = desired.size() + " active offenders is more than reconcile.maxEntries (" + maxEntries
                + "); the firewall is left as it is";
            LOGGER.error("REBUILD REFUSED: {}", problem);
            r.result.complete(RebuildReport.failed(table.size(), clock.millis() - started, problem));
            return;
        }
        boolean full = r.startup || resyncNeeded;
        // a full rebuild plans into a fresh view, taken over only once the kernel has it; a reconcile changes the view in place
        BlockTable next = full ? new BlockTable() : table;
        if (full) {
            // live changes made while the store was being read are kept (they count as recorded long ago: already admitted)
            desired = new ArrayList<>(desired);
            for (Map.Entry<Prefix, BlockTable.Entry> e : table.entries().entrySet()) {
                if (e.getValue().changedAt >= r.loadStartedAt && e.getValue().expiresAt > now) {
                    desired.add(new Wanted(e.getKey(), e.getValue().expiresAt, 0));
                }
            }
        }
        ReconcilePlanner.Plan plan = reconciles.plan(desired, next, now, r.loadStartedAt, !full);
        long planned = clock.millis();
        try {
            if (full) {
                backend.rebuild(ttls(next, now));
            } else if (!plan.ops.isEmpty()) {
                backend.apply(plan.ops);
            }
        } catch (BackendException e) {
            if (full) {
                LOGGER.error("Rebuild of the firewall sets failed, keeping them as they are: {}", e.getMessage());
                r.result.complete(RebuildReport.failed(table.size(), clock.millis() - started, e.getMessage()));
                return;
            }
            LOGGER.warn("Applying the reconcile difference ({} ops) failed, rebuilding the sets whole instead: {}", plan.ops.size(),
                firstLine(e.getMessage()));
            try {
                backend.rebuild(ttls(table, now));
                full = true;
            } catch (BackendException again) {
                // the view already holds what the kernel should: the next housekeeping retries making it so
                resyncNeeded = true;
                LOGGER.error("Rebuild of the firewall sets failed, will retry: {}", again.getMessage());
                r.result.complete(RebuildReport.failed(table.size(), clock.millis() - started, again.getMessage()));
                return;
            }
        }
        long applied = clock.millis();
        if (next != table) {
            table.replaceWith(next);
        }
        resyncNeeded = false;
        size = table.size();
        if (plan.held > 0) {
            LOGGER.error("CIRCUIT BREAKER HELD BACK {} offender(s) from the store: more than {} new blocks recorded within one minute "
                + "(e.g. {}); they stay out of the firewall. Check the trap list and the James logs", plan.held, breaker.maxPerMinute(), plan.heldSample);
        }
        RebuildReport report = new RebuildReport(true, full, table.size(), plan.added, plan.removed, plan.refreshed, plan.kept, plan.covered,
            plan.held, plan.capped, clock.millis() - started, applied - planned, null);
        stats.reconciled(report, clock.millis());
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
