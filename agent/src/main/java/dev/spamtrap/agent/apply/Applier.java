package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.backend.BackendException;
import dev.spamtrap.agent.backend.FirewallBackend;
import dev.spamtrap.agent.backend.KernelState;
import dev.spamtrap.agent.backend.Op;
import dev.spamtrap.agent.net.Prefix;
import dev.spamtrap.agent.safety.CircuitBreaker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
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
 * batch is split in halves until the bad change is alone; it is tried once more by itself and then refused,
 * and every other change applies. A failure never rewrites the sets from the agent's view.
 * <p>
 * The kernel is never emptied on the agent's word alone. At start the agent does not know what the sets hold;
 * a reader thread lists them ({@link FirewallBackend#readBack()}) and the applier merges that into its view.
 * Until then (or, for a backend that cannot list its sets, until a full rebuild from the store succeeds) it only
 * adds, and removes only the exact elements UNBLOCKs name. Rebuilds and reconciles run on this thread too, so
 * they never interleave with a batch; once the kernel is known they apply only their difference. The backend's
 * objects are checked every second and restored at once if they disappeared (e.g. {@code nft flush ruleset}).
 * Planning lives in {@link ChangePlanner} and {@link ReconcilePlanner}.
 */
public final class Applier implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(Applier.class);
    private static final long SWEEP_MILLIS = 10_000;
    private static final long WATCH_MILLIS = 1_000;

    public enum Action { BLOCK, UNBLOCK }

    private static final class Rebuild {
        final Snapshot snapshot;
        final long loadStartedAt;
        final boolean startup;
        final CompletableFuture<RebuildReport> result = new CompletableFuture<>();

        Rebuild(Snapshot snapshot, long loadStartedAt, boolean startup) {
            this.snapshot = snapshot;
            this.loadStartedAt = loadStartedAt;
            this.startup = startup;
        }
    }

    /** What the reader thread found in the kernel's sets at start (secondsLeft null: nothing usable, see problem). */
    private static final class KernelRead {
        final Map<Prefix, Long> secondsLeft;
        final long startedAt;
        final long tookMillis;
        final String problem;

        KernelRead(Map<Prefix, Long> secondsLeft, long startedAt, long tookMillis, String problem) {
            this.secondsLeft = secondsLeft;
            this.startedAt = startedAt;
            this.tookMillis = tookMillis;
            this.problem = problem;
        }
    }

    private static final long KERNEL_READ_RETRY_MILLIS = 10_000;
    /** An element that expires this soon may already be gone from the kernel by its own timeout: no drift. */
    private static final long EXPIRY_MARGIN_MILLIS = 2_000;

    /** One drift check's listing of the kernel, and which of the view's entries it must hold. */
    private static final class DriftCheck {
        final KernelState state;
        /** Entries changed at or after this may have been written after the listing began: not judged. */
        final long judgeChangedBefore;
        final int rebuildWrites;

        DriftCheck(KernelState state, long judgeChangedBefore, int rebuildWrites) {
            this.state = state;
            this.judgeChangedBefore = judgeChangedBefore;
            this.rebuildWrites = rebuildWrites;
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
    private final long maxTtlSeconds;
    private long lastSweep;
    private long lastWatch;
    /** Whether the view holds what the kernel holds (read back, or rebuilt whole from the store). Applier thread only. */
    private volatile boolean kernelKnown;
    /** A read-back is under way: rebuilds wait for it rather than flush the sets. Applier thread only. */
    private boolean kernelReadPending;
    private final List<Rebuild> waitingForKernel = new ArrayList<>();
    /** When the watch last recreated the backend's objects. */
    private long restoredAt = Long.MIN_VALUE;
    private final Thread reader;
    private final Thread driftWatch;
    private final long driftCheckMillis;
    /** Set once the backend says it cannot be inspected: the applier then only checks that the table is there. */
    private volatile boolean inspectUnsupported;
    private volatile boolean driftCheckQueued;
    /** The planning time of the live batch being written, or Long.MAX_VALUE when none is. */
    private volatile long batchWriteSince = Long.MAX_VALUE;
    /** Counts writes of rebuilds, reconciles and restores (twice each: before and after), so a drift check overlapping one is dropped. */
    private volatile int rebuildWrites;
    /** Where the view is saved (periodically and at stop) and loaded from at start; empty: not saved. */
    private final java.util.Optional<ViewFile> viewFile;
    private final long saveIntervalNanos;
    private long lastSave;
    private long savedChanges = -1;
    /**
     * The view came from the saved file and the kernel's sets have not been read back since: it is trusted for
     * deletes and differences, but the drift check does not add back what it lacks until the read-back has told
     * which of its entries the kernel really holds (an element deleted by hand while the agent was down stays out).
     */
    private volatile boolean viewUnverified;
    /** Prefixes the agent changed in the kernel while {@link #viewUnverified}: the read-back does not judge them. */
    private final java.util.Set<Prefix> touchedWhileUnverified = new java.util.HashSet<>();

    public Applier(FirewallBackend backend, CircuitBreaker breaker, Clock clock, int batchSize, long maxTtlSeconds, int maxEntries) {
        this(backend, breaker, clock, batchSize, maxTtlSeconds, maxEntries, new AgentStats(), java.time.Duration.ZERO);
    }

    /**
     * @param driftCheck how often the kernel is listed and compared with the view (zero: only the table's presence
     *                   is checked, every second)
     */
    public Applier(FirewallBackend backend, CircuitBreaker breaker, Clock clock, int batchSize, long maxTtlSeconds, int maxEntries, AgentStats stats,
                   java.time.Duration driftCheck) {
        this(backend, breaker, clock, batchSize, maxTtlSeconds, maxEntries, stats, driftCheck, java.util.Optional.empty(), java.time.Duration.ofMinutes(1));
    }

    /**
     * @param viewFile     where the view is saved every {@code saveInterval} (when it changed) and at stop, and loaded
     *                     from at start (empty: never saved; a restart then learns the kernel's content by reading it back)
     */
    public Applier(FirewallBackend backend, CircuitBreaker breaker, Clock clock, int batchSize, long maxTtlSeconds, int maxEntries, AgentStats stats,
                   java.time.Duration driftCheck, java.util.Optional<ViewFile> viewFile, java.time.Duration saveInterval) {
        this.viewFile = viewFile;
        this.saveIntervalNanos = saveInterval.toNanos();
        this.driftCheckMillis = driftCheck.toMillis();
        this.inspectUnsupported = driftCheck.isZero();
        this.backend = backend;
        this.breaker = breaker;
        this.clock = clock;
        this.batchSize = batchSize;
        this.maxEntries = maxEntries;
        this.stats = stats;
        if (maxTtlSeconds > backend.maxTimeoutSeconds()) {
            LOGGER.warn("block.maxLifetime ({} s) is longer than the longest timeout {} accepts: every lifetime is capped at {} s "
                + "(a longer block is renewed by the reconcile from the store once it expires)", maxTtlSeconds, backend.describe(), backend.maxTimeoutSeconds());
            maxTtlSeconds = backend.maxTimeoutSeconds();
        }
        this.maxTtlSeconds = maxTtlSeconds;
        this.changes = new ChangePlanner(table, breaker, maxTtlSeconds, recentUnblocks);
        this.reconciles = new ReconcilePlanner(maxTtlSeconds, breaker.maxPerMinute());
        this.thread = new Thread(this::run, "agent-applier");
        this.reader = new Thread(this::readKernel, "agent-kernel-read");
        this.reader.setDaemon(true);
        this.driftWatch = new Thread(this::watchDrift, "agent-drift-check");
        this.driftWatch.setDaemon(true);
        this.lastSweep = System.nanoTime();
        this.lastWatch = lastSweep;
    }

    /** Starts applying, and reading the kernel's sets back on a thread of their own (live commands apply meanwhile). */
    public void start() {
        kernelReadPending = true;
        lastSave = System.nanoTime();
        viewFile.ifPresent(this::loadSavedView);
        thread.start();
        reader.start();
        if (!inspectUnsupported) {
            driftWatch.start();
        }
    }

    /**
     * Takes the saved view as the kernel's content, so that deletes, reconciles and UNBLOCKs work by difference at
     * once; the sets are still read back in the background and compared by difference. A missing or unusable file
     * leaves the view empty: the agent then only adds until the read-back.
     */
    private void loadSavedView(ViewFile file) {
        if (!backend.expiresInKernel()) {
            LOGGER.info("Not loading the saved view {}: {} keeps no lifetimes of its own; the start-up rebuild from the store is a full one",
                file, backend.describe());
            return;
        }
        long t0 = System.nanoTime();
        long now = clock.millis();
        long cap = now + maxTtlSeconds * 1000;
        BlockTable loaded = new BlockTable();
        int[] expired = new int[1];
        java.util.Optional<ViewFile.Saved> saved;
        try {
            saved = file.read(new ViewFile.Sink() {
                @Override
                public void host4(int address, long expiresAt) {
                    if (expiresAt <= now) {
                        expired[0]++;
                    } else {
                        loaded.putHost4(address, Math.min(expiresAt, cap), 0);
                    }
                }

                @Override
                public void prefix(Prefix prefix, long expiresAt) {
                    if (expiresAt <= now) {
                        expired[0]++;
                    } else {
                        loaded.put(prefix, Math.min(expiresAt, cap), 0);
                    }
                }
            });
        } catch (java.io.IOException | RuntimeException e) {
            LOGGER.error("SAVED VIEW UNUSABLE: {}: {}; ignored: the agent only adds until it has read the kernel's sets back", file, e.getMessage());
            return;
        }
        if (saved.isEmpty()) {
            LOGGER.warn("No saved view at {}: the agent only adds until it has read the kernel's sets back", file);
            return;
        }
        table.replaceWith(loaded);
        savedChanges = table.changes();
        size = table.size();
        kernelKnown = true;
        kernelReadPending = false;
        viewUnverified = true;
        LOGGER.info("Loaded the saved view {} in {} ms: {} entries (saved {} s ago, {} expired since); changes apply by difference now, "
                + "the kernel's sets are read back in the background and compared", file, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
            table.size(), Math.max(0, now - saved.get().savedAtMillis) / 1000, expired[0]);
    }

    /** Saves the view if it changed since the last save (only once the kernel's content is known: a partial view is not worth keeping). */
    private void saveView() {
        if (viewFile.isEmpty() || !kernelKnown || table.changes() == savedChanges || !backend.expiresInKernel()) {
            return;
        }
        long t0 = System.nanoTime();
        try {
            table.removeExpired(clock.millis());
            viewFile.get().write(table, clock.millis());
            savedChanges = table.changes();
            LOGGER.debug("Saved the view ({} entries) to {} in {} ms", table.size(), viewFile.get(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        } catch (java.io.IOException | RuntimeException e) {
            LOGGER.error("Saving the view to {} failed, the next save retries: {}", viewFile.get(), e.getMessage());
        }
    }

    /** Remembers what the agent changed in the kernel while the saved view is not yet compared with the kernel. */
    private void touched(List<Op> ops) {
        if (viewUnverified) {
            for (Op op : ops) {
                touchedWhileUnverified.add(op.prefix());
            }
        }
    }

    /**
     * Lists the kernel every {@code driftCheckMillis} (never sooner than the last listing took, so that a large set
     * costs at most half of one core) and hands the listing to the applier, which puts back what is missing.
     */
    private void watchDrift() {
        while (!closed) {
            long t0 = System.nanoTime();
            if (!driftCheckQueued) {
                long judgeBefore = Math.min(clock.millis(), batchWriteSince);
                int writes = rebuildWrites;
                try {
                    java.util.Optional<KernelState> state = backend.inspect();
                    if (state.isEmpty()) {
                        inspectUnsupported = true;
                        LOGGER.info("{} cannot be listed for the drift check; only the table's presence is checked", backend.describe());
                        return;
                    }
                    driftCheckQueued = true;
                    queue.add(new DriftCheck(state.get(), judgeBefore, writes));
                } catch (BackendException | RuntimeException e) {
                    if (closed) {
                        return; // interrupted by close()
                    }
                    LOGGER.error("Drift check of the firewall failed: {}", firstLine(String.valueOf(e.getMessage())));
                }
            }
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            try {
                Thread.sleep(Math.max(driftCheckMillis - took, took));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Puts back, by difference, what the kernel lacks: the table whole if it is gone; otherwise only the missing
     * sets, chain or rules (rules still there keep their counters) and the missing elements the view holds.
     * Elements the agent does not know are left alone.
     */
    private void repairDrift(DriftCheck d) {
        driftCheckQueued = false;
        if (d.rebuildWrites != rebuildWrites) {
            return; // a rebuild or reconcile wrote while the kernel was being listed: the next check judges
        }
        long now = clock.millis();
        KernelState k = d.state;
        try {
            if (!k.tablePresent()) {
                restoreTable();
                return;
            }
            if (!k.missingObjects().isEmpty()) {
                LOGGER.error("FIREWALL DRIFT: {} gone from {}; adding them back", k.missingObjects(), backend.describe());
                backend.restoreObjects(k);
                stats.driftRepaired(k.missingObjects().size());
            }
        } catch (BackendException e) {
            LOGGER.error("Repairing the firewall's objects failed, the next check retries: {}", e.getMessage());
            return;
        }
        if (viewUnverified) {
            return; // the saved view may hold what was deleted by hand while the agent was down: the read-back judges first
        }
        List<Op> missing = new ArrayList<>();
        table.forEach(entry -> {
            if (entry.expiresAt - now > EXPIRY_MARGIN_MILLIS && entry.changedAt < d.judgeChangedBefore) {
                Prefix p = entry.prefix();
                if (!k.elements().containsKey(p)) {
                    missing.add(Op.add(p, (entry.expiresAt - now + 999) / 1000));
                }
            }
        });
        if (!missing.isEmpty()) {
            LOGGER.error("FIREWALL DRIFT: {} element(s) the agent holds are gone from the kernel (e.g. {}); adding them back",
                missing.size(), missing.get(0).prefix());
            List<Op> failed = applyIsolated(missing, "Drift repair");
            stats.driftRepaired(missing.size() - failed.size());
        }
    }

    /** The table is gone (e.g. {@code nft flush ruleset}): recreates it and writes the view into its new, empty sets. */
    private void restoreTable() throws BackendException {
        LOGGER.error("FIREWALL TABLE GONE ({}); restoring it with {} entries now", backend.describe(), table.size());
        rebuildWrites++;
        try {
            backend.start();
            restoredAt = clock.millis();
            viewUnverified = false; // the sets are new and get exactly the view
            touchedWhileUnverified.clear();
            stats.tableRestored();
            // the sets were just created empty: writing the view into them loses nothing
            table.removeExpired(restoredAt);
            backend.rebuild(ttls(table, restoredAt));
        } finally {
            rebuildWrites++;
        }
    }

    /** Whether the agent knows what the kernel's sets hold (read back, or rebuilt whole from the store). */
    public boolean kernelKnown() {
        return kernelKnown;
    }

    private void readKernel() {
        boolean told = false;
        while (!closed && (!kernelKnown || viewUnverified)) {
            long started = clock.millis();
            long t0 = System.nanoTime();
            try {
                java.util.Optional<Map<Prefix, Long>> content = backend.readBack();
                long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                queue.add(new KernelRead(content.orElse(null), started, took, content.isPresent() ? null
                    : backend.describe() + " cannot list its sets with their lifetimes"));
                return;
            } catch (BackendException | RuntimeException e) {
                if (closed) {
                    return;
                }
                String problem = "reading them back failed: " + firstLine(String.valueOf(e.getMessage()));
                LOGGER.error("Reading the firewall's sets back failed, retrying in {} s (until then the agent only adds): {}",
                    KERNEL_READ_RETRY_MILLIS / 1000, problem);
                if (!told) {
                    // rebuilds stop waiting: a full one from the store may now make the kernel known
                    queue.add(new KernelRead(null, started, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), problem));
                    told = true;
                }
            }
            try {
                Thread.sleep(KERNEL_READ_RETRY_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    public AgentStats stats() {
        return stats;
    }

    /** Queues a command; the future completes once the firewall has it (or it was refused). */
    public CompletableFuture<Outcome> submit(Action action, Prefix prefix, long ttlSeconds, String origin) {
        Change c = new Change(action, prefix, ttlSeconds, origin);
        if (closed) {
            c.complete(Outcome.refused("agent is shutting down"));
        } else {
            queue.add(c);
        }
        return c.result();
    }

    /** One command of {@link #submitAll}. */
    public record Request(Action action, Prefix prefix, long ttlSeconds) {
    }

    /**
     * Queues commands that arrived together (one signed message) as one item: they are applied in the same
     * transaction when they fit in it; the future completes with their outcomes, in order, once each has one.
     */
    public CompletableFuture<List<Outcome>> submitAll(List<Request> requests, String origin) {
        Change.Group g = new Change.Group(requests, origin);
        if (closed) {
            g.refuseAll("agent is shutting down");
        } else if (requests.size() > 0) {
            queue.add(g);
        }
        return g.result;
    }

    /**
     * Queues a rebuild ({@code startup}: flush and refill in one transaction, since the kernel's old content is
     * unknown to the agent) or a reconcile (only the difference from the agent's view, in one transaction) from
     * {@code snapshot}, read from the store starting at {@code loadStartedAt}. Both pass the same rails.
     */
    public CompletableFuture<RebuildReport> rebuild(List<Wanted> snapshot, long loadStartedAt, boolean startup) {
        return rebuild(Snapshot.of(snapshot), loadStartedAt, startup);
    }

    /** As {@link #rebuild(List, long, boolean)}; the snapshot is the applier's from now on (it may change it). */
    public CompletableFuture<RebuildReport> rebuild(Snapshot snapshot, long loadStartedAt, boolean startup) {
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

    /**
     * Applies what is queued, one transaction at a time: each takes every change queued up to {@code batchSize} (so
     * what arrived while nft ran goes into the next transaction whole, not in leftovers of the previous one); a
     * rebuild, reconcile, drift check or read-back waits for the changes queued before it and runs alone.
     */
    private void run() {
        Object carry = null; // the item that did not fit in the last transaction
        int carryFrom = 0; // for a group: its first change not yet applied
        while (!closed) {
            try {
                Object o = carry != null ? carry : queue.poll(WATCH_MILLIS, TimeUnit.MILLISECONDS);
                int from = carryFrom;
                carry = null;
                carryFrom = 0;
                housekeeping();
                List<Change> batch = new ArrayList<>();
                while (o != null) {
                    if (o instanceof Change) {
                        batch.add((Change) o);
                    } else if (o instanceof Change.Group) {
                        Change[] changes = ((Change.Group) o).changes;
                        int take = Math.min(changes.length - from, batchSize - batch.size());
                        batch.addAll(Arrays.asList(changes).subList(from, from + take));
                        if (from + take < changes.length) {
                            carry = o;
                            carryFrom = from + take;
                            break;
                        }
                    } else if (!batch.isEmpty()) {
                        carry = o; // the changes before it first
                        break;
                    } else {
                        if (o instanceof DriftCheck) {
                            repairDrift((DriftCheck) o);
                        } else if (o instanceof KernelRead) {
                            merge((KernelRead) o);
                        } else {
                            doRebuild((Rebuild) o);
                        }
                        break; // not held until the next command: a reconcile's snapshot holds a million entries
                    }
                    from = 0;
                    if (batch.size() >= batchSize) {
                        break;
                    }
                    o = queue.poll();
                }
                applyBatch(batch);
                size = table.size();
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException e) {
                LOGGER.error("Applier: unexpected error, continuing", e);
            }
        }
        List<Object> left = new ArrayList<>();
        if (carry != null) {
            left.add(carry);
        }
        left.addAll(queue);
        left.addAll(waitingForKernel);
        for (Object o : left) {
            if (o instanceof Change) {
                ((Change) o).complete(Outcome.refused("agent is shutting down"));
            } else if (o instanceof Change.Group) {
                ((Change.Group) o).refuseAll("agent is shutting down");
            } else if (o instanceof Rebuild) {
                ((Rebuild) o).result.complete(RebuildReport.failed(0, 0, "agent is shutting down"));
            }
        }
    }

    private void applyBatch(List<Change> batch) {
        if (batch.isEmpty()) {
            return;
        }
        long now = clock.millis();
        long t0 = System.nanoTime();
        batchWriteSince = now;
        try {
            for (Change c : batch) {
                changes.plan(c, now);
            }
            long planned = System.nanoTime();
            applyOrSplit(batch, true);
            if (LOGGER.isDebugEnabled()) {
                LOGGER.debug("Batch of {} change(s): planned in {} us, written in {} us", batch.size(), (planned - t0) / 1000,
                    (System.nanoTime() - planned) / 1000);
            }
        } finally {
            batchWriteSince = Long.MAX_VALUE;
        }
        size = table.size();
        for (Change c : batch) {
            stats.count(c.outcome);
            c.complete(c.outcome);
        }
    }

    /**
     * Applies the ops of these changes in one call; on failure, halves until the bad change is alone, which is
     * tried once more by itself (a timeout may pass) and then refused. The others apply.
     */
    private void applyOrSplit(List<Change> part, boolean mayRetry) {
        List<Op> ops = new ArrayList<>();
        for (Change c : part) {
            ops.addAll(c.ops);
        }
        if (ops.isEmpty()) {
            return;
        }
        try {
            backend.apply(ops);
            touched(ops);
            return;
        } catch (BackendException e) {
            if (part.size() == 1) {
                if (mayRetry) {
                    LOGGER.warn("Firewall change {} {} failed, trying it once more by itself: {}", part.get(0).action, part.get(0).prefix,
                        firstLine(e.getMessage()));
                    applyOrSplit(part, false);
                } else {
                    fail(part.get(0), e);
                }
                return;
            }
            LOGGER.warn("Batch of {} change(s) failed, splitting it to leave out the bad one: {}", part.size(), firstLine(e.getMessage()));
        }
        int half = part.size() / 2;
        applyOrSplit(part.subList(0, half), mayRetry);
        applyOrSplit(part.subList(half, part.size()), mayRetry);
    }

    /** Refuses one change whose ops failed, and puts the view's entry for it back as it was; nothing else is touched. */
    private void fail(Change c, BackendException e) {
        LOGGER.error("Firewall change {} {} (from {}) failed and is dropped; the other changes of its batch applied: {}", c.action, c.prefix,
            c.origin, e.getMessage());
        if (c.planned) {
            if (c.before != null) {
                table.put(c.prefix, c.before.expiresAt, c.before.changedAt);
            } else {
                table.remove(c.prefix);
            }
        }
        c.outcome = Outcome.refused("firewall command failed: " + firstLine(e.getMessage()));
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /**
     * Takes what the kernel's sets hold into the view. Entries the agent changed since the start keep their
     * newer state, and what was unblocked while the sets were being read stays out. Rebuilds that waited for this
     * run now, as differences.
     */
    private void merge(KernelRead k) {
        kernelReadPending = false;
        if (k.secondsLeft == null) {
            if (viewUnverified) {
                LOGGER.warn("The saved view is not yet compared with the kernel: {}; retrying", k.problem);
            } else {
                LOGGER.warn("Not reading the firewall's sets back: {}; the agent only adds until a full rebuild from the store succeeds", k.problem);
            }
        } else if (viewUnverified) {
            compareSavedView(k);
        } else if (!kernelKnown) {
            long now = clock.millis();
            long cap = now + maxTtlSeconds * 1000;
            // the objects were recreated while they were being read: what was read is no longer in the kernel
            boolean restoredMeanwhile = restoredAt >= k.startedAt;
            List<Op> rewrite = new ArrayList<>();
            int merged = 0;
            List<Op> lengthen = new ArrayList<>();
            for (Map.Entry<Prefix, Long> e : k.secondsLeft.entrySet()) {
                Prefix p = e.getKey();
                Long unblockedAt = recentUnblocks.get(p);
                BlockTable.Entry live = table.get(p, now);
                if (live != null) {
                    // blocked since the start by an add, which leaves an element already there with its old timeout
                    if (e.getValue() < maxTtlSeconds && live.expiresAt - (now + e.getValue() * 1000) > ReconcilePlanner.REFRESH_TOLERANCE_MILLIS) {
                        lengthen.add(Op.refresh(p, (live.expiresAt - now + 999) / 1000));
                    }
                    continue;
                }
                if ((unblockedAt != null && unblockedAt >= k.startedAt) || e.getValue() <= 0) {
                    continue;
                }
                long left = e.getValue();
                long expiresAt = left >= maxTtlSeconds ? cap : now + left * 1000;
                table.put(p, expiresAt, 0);
                merged++;
                if (restoredMeanwhile) {
                    rewrite.add(Op.add(p, (expiresAt - now + 999) / 1000));
                }
            }
            kernelKnown = true;
            size = table.size();
            LOGGER.info("Read the firewall's sets back: {} element(s) in {} ms, {} taken into the agent's view ({} entries now); "
                + "from now on changes and reconciles apply by difference", k.secondsLeft.size(), k.tookMillis, merged, table.size());
            if (!lengthen.isEmpty()) {
                applyIsolated(lengthen, "Giving blocks made before the read-back their full lifetime");
            }
            if (!rewrite.isEmpty()) {
                applyIsolated(rewrite, "restoring the elements read back before the table was recreated");
            }
        }
        List<Rebuild> waiting = new ArrayList<>(waitingForKernel);
        waitingForKernel.clear();
        for (Rebuild r : waiting) {
            doRebuild(r);
        }
    }

    /**
     * The saved view meets the kernel's sets as read back: by difference, the kernel wins for every prefix the agent
     * has not changed since the start. Entries the kernel lacks leave the view (deleted by hand or lost while the
     * agent was down: the reconcile from the store puts back what should be there), and elements the view lacks join
     * it. Nothing is written to the kernel.
     */
    private void compareSavedView(KernelRead k) {
        viewUnverified = false;
        if (restoredAt >= k.startedAt) {
            touchedWhileUnverified.clear();
            return; // the sets were recreated from the view while being read: the listing is of sets that are gone
        }
        long now = clock.millis();
        long cap = now + maxTtlSeconds * 1000;
        List<Prefix> gone = new ArrayList<>();
        table.forEach(entry -> {
            if (entry.expiresAt - now > EXPIRY_MARGIN_MILLIS) {
                Prefix p = entry.prefix();
                if (!touchedWhileUnverified.contains(p) && !k.secondsLeft.containsKey(p)) {
                    gone.add(p);
                }
            }
        });
        gone.forEach(table::remove);
        int joined = 0;
        for (Map.Entry<Prefix, Long> e : k.secondsLeft.entrySet()) {
            Prefix p = e.getKey();
            if (e.getValue() <= 0 || touchedWhileUnverified.contains(p) || table.get(p, now) != null) {
                continue;
            }
            table.put(p, e.getValue() >= maxTtlSeconds ? cap : now + e.getValue() * 1000, 0);
            joined++;
        }
        touchedWhileUnverified.clear();
        size = table.size();
        if (gone.isEmpty() && joined == 0) {
            LOGGER.info("Read the firewall's sets back in {} ms: {} element(s), as the saved view said", k.tookMillis, k.secondsLeft.size());
        } else {
            LOGGER.warn("Read the firewall's sets back in {} ms: {} element(s); the saved view differed: {} of its entries are not in the kernel "
                    + "(left out of the view, e.g. {}), {} kernel element(s) it lacked were taken in; {} entries now", k.tookMillis, k.secondsLeft.size(),
                gone.size(), gone.isEmpty() ? "-" : gone.get(0), joined, table.size());
        }
    }

    /**
     * Applies ops in one call; on failure halves until each failing op is alone, and returns those (logged, left
     * out). Used for reconcile differences: one bad element never holds back the others, nor causes a rebuild.
     */
    private List<Op> applyIsolated(List<Op> ops, String what) {
        List<Op> failed = new ArrayList<>();
        applyIsolated(ops, what, failed);
        if (!failed.isEmpty()) {
            LOGGER.error("{}: {} of {} change(s) failed and were left out, e.g. {}", what, failed.size(), ops.size(), failed.get(0));
        }
        return failed;
    }

    private void applyIsolated(List<Op> ops, String what, List<Op> failed) {
        if (ops.isEmpty()) {
            return;
        }
        try {
            backend.apply(ops);
            touched(ops);
            return;
        } catch (BackendException e) {
            if (ops.size() == 1) {
                LOGGER.warn("{}: {} failed: {}", what, ops.get(0), firstLine(e.getMessage()));
                failed.add(ops.get(0));
                return;
            }
        }
        int half = ops.size() / 2;
        applyIsolated(ops.subList(0, half), what, failed);
        applyIsolated(ops.subList(half, ops.size()), what, failed);
    }

    /** Remaining lifetimes (seconds) of a view's entries, for a full rebuild. */
    private static Map<Prefix, Long> ttls(BlockTable view, long now) {
        Map<Prefix, Long> out = new HashMap<>(view.size() * 2);
        view.forEach(e -> out.put(e.prefix(), (e.expiresAt - now + 999) / 1000));
        return out;
    }

    private void housekeeping() {
        if (!backend.expiresInKernel()) {
            try {
                backend.sweepExpired();
            } catch (BackendException e) {
                LOGGER.error("Deleting expired blocks failed, the next sweep retries: {}", e.getMessage());
            }
        }
        long mono = System.nanoTime(); // intervals on the monotonic clock: a wall-clock step neither stalls nor rushes them
        if (inspectUnsupported && mono - lastWatch >= WATCH_MILLIS * 1_000_000) {
            lastWatch = mono;
            watch();
        }
        if (mono - lastSweep < SWEEP_MILLIS * 1_000_000) {
            return;
        }
        lastSweep = mono;
        long now = clock.millis();
        table.removeExpired(now);
        if (mono - lastSave >= saveIntervalNanos) {
            lastSave = mono;
            saveView();
        }
        recentUnblocks.values().removeIf(t -> t < now - 3_600_000);
        size = table.size();
    }

    /** Restores the backend's table and sets at once if something removed them. */
    private void watch() {
        try {
            if (backend.isPresent()) {
                return;
            }
            restoreTable();
        } catch (BackendException e) {
            LOGGER.error("Checking or restoring the firewall table failed: {}", e.getMessage());
        }
    }

    private void doRebuild(Rebuild r) {
        if (kernelReadPending) {
            waitingForKernel.add(r); // never flush the sets while their content is being read
            return;
        }
        long started = clock.millis();
        long now = started;
        Snapshot desired = r.snapshot;
        if (!recentUnblocks.isEmpty()) {
            // what an administrator unblocked while the store was being read stays out
            int[] hosts = recentUnblocks.entrySet().stream()
                .filter(e -> e.getValue() >= r.loadStartedAt && Snapshot.isHost4(e.getKey()))
                .mapToInt(e -> e.getKey().ipv4Bits()).sorted().toArray();
            desired.removeAll(hosts, p -> {
                Long unblockedAt = recentUnblocks.get(p);
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
        // a full rebuild only while the kernel's content is unknown (a backend that cannot list its sets): the store is then
        // the only truth there is. It plans into a fresh view, taken over once the kernel has it; otherwise the
        // difference is applied, the view changed in place
        boolean full = !kernelKnown;
        BlockTable next = full ? new BlockTable() : table;
        if (full) {
            // live changes made while the store was being read are kept (they count as recorded long ago: already admitted)
            table.forEach(e -> {
                if (e.changedAt >= r.loadStartedAt && e.expiresAt > now) {
                    desired.add(e.prefix(), e.expiresAt, 0);
                }
            });
        }
        ReconcilePlanner.Plan plan = reconciles.plan(desired, next, now, r.loadStartedAt, !full);
        rebuildWrites++;
        try {
            writeRebuild(r, plan, next, full, now, started);
        } finally {
            rebuildWrites++;
        }
    }

    private void writeRebuild(Rebuild r, ReconcilePlanner.Plan plan, BlockTable next, boolean full, long now, long started) {
        long planned = clock.millis();
        if (full) {
            try {
                backend.rebuild(ttls(next, now));
            } catch (BackendException e) {
                LOGGER.error("Rebuild of the firewall sets failed, keeping them as they are: {}", e.getMessage());
                r.result.complete(RebuildReport.failed(table.size(), clock.millis() - started, e.getMessage()));
                return;
            }
            table.replaceWith(next);
            kernelKnown = true;
        } else {
            for (Op failed : applyIsolated(plan.ops, "Reconcile difference")) {
                if (failed.kind() != Op.Kind.REMOVE) {
                    table.remove(failed.prefix()); // not in the kernel as planned: the next reconcile tries again
                }
            }
        }
        long applied = clock.millis();
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
        reader.interrupt();
        driftWatch.interrupt();
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!thread.isAlive()) {
            saveView(); // at stop: the applier thread is done with the view
        }
    }
}
