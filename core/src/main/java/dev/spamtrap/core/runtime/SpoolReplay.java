package dev.spamtrap.core.runtime;

import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.store.HitSpool;
import dev.spamtrap.core.store.OffenderStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Takes hits from the SMTP threads without ever blocking them and makes them durable, then stored:
 * <ol>
 * <li>thread {@code spamtrap-spool}: drains the queue and appends each group with one fsync (group commit);</li>
 * <li>thread {@code spamtrap-replay}: reads the spool in batches after its checkpoint, keeps several batches being
 *     stored at once, and moves the checkpoint past each batch, in spool order, once it and those before it are
 *     stored. While the store is down nothing moves; the hits are retried every {@code retry.interval}.</li>
 * </ol>
 * Spooled hits are stored only once the shared allowlist has been read, and a hit whose offender key shares an address
 * with an allowlisted range (added after the hit was spooled) is confirmed without being stored: it lists nobody.
 * {@link #close} spools whatever is still queued before stopping.
 */
final class SpoolReplay implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(SpoolReplay.class);
    /** Clients recorded together: the store reads their hits and listings back with one query per table. */
    static final int CLIENTS_PER_GROUP = 100;
    /**
     * Hits being stored at once, over as many spool batches as that takes: keeps Cassandra busy while a batch is confirmed
     * or the next one read, and stays well within the driver's requests per connection (a hit is about two requests).
     */
    static final int HITS_IN_FLIGHT = 2048;
    /** Hits read ahead of the checkpoint at most (stored or being stored): bounds what the replay holds in memory. */
    static final int HITS_UNCONFIRMED = 4 * HITS_IN_FLIGHT;
    /** Failed attempts at the batch after the checkpoint before its hits are tried one by one. */
    static final int ATTEMPTS_BEFORE_ISOLATION = 3;
    private static final TrapHit STOP = new TrapHit("stop", java.time.Instant.EPOCH, "stop", "", "", "");

    private final HitSpool spool;
    private final OffenderStore store;
    private final StoreLink link;
    private final Listeners listeners;
    private final java.util.function.Consumer<Offender> confirmed;
    private final int batchSize;
    private final Duration retry;
    private final Duration storeWait;
    private final LinkedBlockingQueue<TrapHit> queue = new LinkedBlockingQueue<>();
    private final Object wake = new Object();
    /** Set by {@link #wakeUp} under {@code wake}, cleared by {@link #pause}. */
    private boolean woken;
    private final Thread writer;
    private final Thread replayer;
    private final AtomicLong stored = new AtomicLong();
    private volatile boolean running = true;
    /** Batches being stored, oldest first, and the spool offset the next one starts at: the replay thread's alone. */
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private long readFrom;
    /** The checkpoint whose batch failed last, and how many times in a row. */
    private long failedAt = -1;
    private int failedAttempts;
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong allowlistedHits = new AtomicLong();
    private final Allowlisted allowlisted;

    /** The allowlist as the replay sees it (it may have grown since a hit was spooled). */
    interface Allowlisted {
        /** Whether the shared allowlist has been read from the store at least once: until then nothing is replayed. */
        boolean known();

        /** Whether an offender key shares an address with an allowlisted range. */
        boolean covers(String key);

        /** Everything allowed, always known (tests). */
        Allowlisted NONE = new Allowlisted() {
            @Override
            public boolean known() {
                return true;
            }

            @Override
            public boolean covers(String key) {
                return false;
            }
        };
    }

    SpoolReplay(HitSpool spool, OffenderStore store, StoreLink link, Listeners listeners, java.util.function.Consumer<Offender> confirmed,
                Allowlisted allowlisted, int batchSize, Duration retry, Duration storeWait) {
        this.allowlisted = allowlisted;
        this.spool = spool;
        this.store = store;
        this.link = link;
        this.listeners = listeners;
        this.confirmed = confirmed;
        this.batchSize = batchSize;
        this.retry = retry;
        this.storeWait = storeWait;
        this.writer = new Thread(this::writeLoop, "spamtrap-spool");
        this.replayer = new Thread(this::replayLoop, "spamtrap-replay");
        writer.setDaemon(true);
        replayer.setDaemon(true);
    }

    void start() {
        writer.start();
        replayer.start();
    }

    /** Never blocks. */
    void submit(TrapHit hit) {
        queue.add(hit);
    }

    /** Hits accepted but not yet stored (queued or on disk). */
    long depth() {
        return queue.size() + spool.depth();
    }

    /** Hits stored since start. */
    long stored() {
        return stored.get();
    }

    /** Spooled hits confirmed without being stored since start: their key was allowlisted meanwhile. */
    long allowlisted() {
        return allowlistedHits.get();
    }

    private void writeLoop() {
        List<TrapHit> group = new ArrayList<>();
        while (true) {
            try {
                TrapHit first = queue.take();
                group.clear();
                group.add(first);
                queue.drainTo(group, 10_000);
                boolean stop = group.remove(STOP);
                if (!group.isEmpty()) {
                    spool.append(group);
                    wakeUp();
                    for (TrapHit hit : group) {
                        LOGGER.info("Spamtrap hit: client {} sent to trap <{}> (HELO '{}', MAIL FROM <{}>)", hit.client(), hit.trap(), hit.helo(),
                            hit.mailFrom());
                    }
                }
                if (stop) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOGGER.error("Spamtrap spool writer failed", e);
            }
        }
    }

    /** A batch of the spool being stored: its hit count, the spool offset that confirms it, and its hits' listings. */
    private static final class InFlight {
        final long end;
        final int hits;
        final long startedNanos = System.nanoTime();
        /** Hits of the batch not stored: their key is allowlisted. */
        final List<TrapHit> spared;
        final CompletableFuture<List<Offender>> done;

        InFlight(long end, int hits, List<TrapHit> spared, CompletableFuture<List<Offender>> done) {
            this.end = end;
            this.hits = hits;
            this.spared = spared;
            this.done = done;
        }
    }

    /** The hits whose key the allowlist covers now (never stored), taken out of {@code hits}. */
    private List<TrapHit> takeSpared(List<TrapHit> hits) {
        List<TrapHit> spared = new ArrayList<>(0);
        hits.removeIf(h -> {
            boolean covered = allowlisted.covers(h.key());
            if (covered) {
                spared.add(h);
            }
            return covered;
        });
        return spared;
    }

    /** A spooled hit not stored because its key is allowlisted: logged, counted, and its local listing counted down. */
    private void confirmSpared(TrapHit hit) {
        allowlistedHits.incrementAndGet();
        LOGGER.info("Spamtrap hit of client {} (trap <{}>) not stored: {} is allowlisted since the hit was spooled", hit.client(), hit.trap(),
            hit.key());
        confirmed.accept(new Offender(hit.key(), hit.at(), hit.at(), 0, hit.trap(), hit.helo(), hit.mailFrom(), hit.node(), java.time.Instant.EPOCH));
    }

    /**
     * Keeps up to {@link #HITS_IN_FLIGHT} hits of consecutive spool batches being stored at once and confirms them in spool order, so
     * Cassandra is never idle while a batch is confirmed or the next one read. A failure drops everything in flight and
     * replays from the checkpoint once the store is back (recording is idempotent, so what had landed counts once).
     */
    private void replayLoop() {
        readFrom = spool.checkpoint();
        while (running) {
            boolean progressed = false;
            try {
                // 1. confirm the finished head of the line
                long confirmTo = -1;
                int confirmedHits = 0;
                int storedHits = 0;
                List<InFlight> finished = new ArrayList<>();
                String failure = null;
                while (!inFlight.isEmpty()) {
                    InFlight head = inFlight.peek();
                    if (!head.done.isDone()) {
                        if (System.nanoTime() - head.startedNanos > storeWait.toNanos()) {
                            failure = "store writes did not complete within " + storeWait;
                        }
                        break;
                    }
                    if (head.done.isCompletedExceptionally()) {
                        failure = StoreLink.rootMessage(head.done.handle((o, e) -> e).join());
                        break;
                    }
                    inFlight.poll();
                    finished.add(head);
                    confirmTo = head.end;
                    confirmedHits += head.hits;
                    storedHits += head.hits - head.spared.size();
                }
                if (confirmTo >= 0) {
                    if (spool.confirm(confirmTo, confirmedHits)) {
                        readFrom = 0; // the file was emptied: nothing was in flight beyond it
                    }
                    stored.addAndGet(storedHits);
                    link.up();
                    for (InFlight b : finished) {
                        for (Offender o : b.done.join()) {
                            confirmed.accept(o);
                            listeners.recorded(o);
                        }
                        b.spared.forEach(this::confirmSpared);
                    }
                    progressed = true;
                }
                if (failure != null) {
                    // What is in flight may or may not land; the checkpoint did not move past it, so it is replayed.
                    link.failed(failure + "; " + spool.depth() + " hit(s) kept in " + spool.file());
                    long head = spool.checkpoint();
                    failedAttempts = head == failedAt ? failedAttempts + 1 : 1;
                    failedAt = head;
                    inFlight.clear();
                    readFrom = head;
                    if (failedAttempts >= ATTEMPTS_BEFORE_ISOLATION && isolate(head, failure)) {
                        failedAt = -1;
                        failedAttempts = 0;
                    } else {
                        backOff(retry.toMillis());
                    }
                    continue;
                }
                // 2. start the next batch while there is room
                // room: hits whose store has not finished (a finished batch waiting behind a slower one holds none), so the
                // store is kept busy whatever the spread of its answers; at most HITS_UNCONFIRMED wait for the head
                int outstanding = 0;
                int unconfirmed = 0;
                for (InFlight b : inFlight) {
                    outstanding += b.done.isDone() ? 0 : b.hits;
                    unconfirmed += b.hits;
                }
                int room = Math.min(Math.min(batchSize, HITS_IN_FLIGHT - outstanding), HITS_UNCONFIRMED - unconfirmed);
                if ((inFlight.isEmpty() || room >= Math.min(batchSize, CLIENTS_PER_GROUP)) && link.ensure() && allowlisted.known()) {
                    HitSpool.Batch batch = spool.read(readFrom, Math.max(1, room));
                    if (batch.end > readFrom || !batch.hits.isEmpty()) {
                        List<TrapHit> hits = new ArrayList<>(batch.hits);
                        List<TrapHit> spared = takeSpared(hits);
                        inFlight.add(new InFlight(batch.end, batch.hits.size(), spared, store(hits)));
                        readFrom = batch.end;
                        progressed = true;
                    }
                }
            } catch (RuntimeException e) {
                LOGGER.error("Spamtrap replay failed", e);
                dropInFlight();
                continue;
            }
            if (!progressed) {
                // woken by an append or a finished write; the timeout covers a store that came back
                pause(inFlight.isEmpty() && spool.depth() > 0 ? retry.toMillis() : inFlight.isEmpty() ? 1000 : 50);
            }
        }
    }

    /**
     * The batch after the checkpoint failed {@link #ATTEMPTS_BEFORE_ISOLATION} times: each of its hits is stored alone. If
     * the store answers (some hit landed, or a read of the trap table does) and refuses a hit itself (an error that is not a
     * timeout, an unavailable replica or a lost connection), that hit is poison: logged with the reason, counted and
     * skipped, and the checkpoint moves past the batch. A hit without an answer or with a fault, or no answer at all, is
     * an outage: nothing is skipped. Returns whether the batch was settled.
     */
    private boolean isolate(long head, String failure) {
        HitSpool.Batch batch = spool.read(head, batchSize);
        if (batch.hits.isEmpty()) {
            return false;
        }
        List<TrapHit> hits = new ArrayList<>(batch.hits);
        List<TrapHit> spared = takeSpared(hits);
        List<CompletableFuture<List<Offender>>> each = new ArrayList<>(hits.size());
        for (TrapHit hit : hits) {
            each.add(storeGroup(List.of(hit)));
        }
        try {
            CompletableFuture.allOf(each.toArray(new CompletableFuture[0])).get(storeWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // some failed or hang: sorted out below
        }
        List<Offender> landed = new ArrayList<>();
        List<Integer> bad = new ArrayList<>();
        for (int i = 0; i < each.size(); i++) {
            CompletableFuture<List<Offender>> f = each.get(i);
            if (f.isDone() && !f.isCompletedExceptionally()) {
                landed.addAll(f.join());
            } else if (!f.isDone() || !isRefusal(f.handle((o, e) -> e).join())) {
                return false; // no answer, or a timeout or unavailability: a fault, never a reason to skip a hit
            } else {
                bad.add(i);
            }
        }
        boolean storeAnswers = !landed.isEmpty() || bad.isEmpty();
        if (!storeAnswers) {
            try {
                store.loadTrapEntries().toCompletableFuture().get(storeWait.toMillis(), TimeUnit.MILLISECONDS);
                storeAnswers = true;
            } catch (Exception e) {
                return false; // an outage: nothing is poison
            }
        }
        for (int i : bad) {
            CompletableFuture<List<Offender>> f = each.get(i);
            String why = StoreLink.rootMessage(f.handle((o, e) -> e).join());
            skipped.incrementAndGet();
            LOGGER.error("Spamtrap hit skipped after {} failed attempts of its batch ({}) while the store answers other requests: {} ({})",
                ATTEMPTS_BEFORE_ISOLATION, failure, hits.get(i), why);
        }
        if (spool.confirm(batch.end, batch.hits.size())) {
            readFrom = 0;
        } else {
            readFrom = batch.end;
        }
        stored.addAndGet(landed.size());
        link.up();
        for (Offender o : landed) {
            confirmed.accept(o);
            listeners.recorded(o);
        }
        spared.forEach(this::confirmSpared);
        return true;
    }

    /** Whether a failure is the store refusing the request itself (not a timeout, an unavailable replica or no connection). */
    static boolean isRefusal(Throwable e) {
        String root = StoreLink.rootMessage(e);
        for (String fault : new String[] {"Timeout", "Unavailable", "NoNodeAvailable", "AllNodesFailed", "Closed", "ConnectionInit",
            "not connected", "Overloaded", "Bootstrapping"}) {
            if (root.contains(fault)) {
                return false;
            }
        }
        return true;
    }

    /** Hits skipped as poison since start (each logged). */
    long skipped() {
        return skipped.get();
    }

    /** Forgets what is in flight (it may or may not land) and reads again from the checkpoint after a pause. */
    private void dropInFlight() {
        inFlight.clear();
        readFrom = spool.checkpoint();
        backOff(retry.toMillis());
    }

    /** Waits until {@link #wakeUp} (also one that came since the last wait) or {@code millis}. */
    private void pause(long millis) {
        synchronized (wake) {
            if (!woken) {
                waitForWake(millis);
            }
            woken = false;
        }
    }

    /** After a failure: waits {@code millis} or until a wake-up that comes during the wait (an append, a store answering). */
    private void backOff(long millis) {
        synchronized (wake) {
            woken = false;
            waitForWake(millis);
            woken = false;
        }
    }

    private void waitForWake(long millis) {
        try {
            wake.wait(Math.max(1, millis));
        } catch (InterruptedException e) {
            running = false;
            Thread.currentThread().interrupt();
        }
    }

    private void wakeUp() {
        synchronized (wake) {
            woken = true; // a wake-up between the loop's checks and its pause is not lost
            wake.notifyAll();
        }
    }

    /**
     * Stores a batch: each client's hits together (a flood is many hits of few clients), clients in groups the store
     * reads back with one query per table. Completes with each hit's listing, in the batch's order of groups.
     */
    private CompletableFuture<List<Offender>> store(List<TrapHit> hits) {
        if (hits.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        java.util.Map<String, List<TrapHit>> byClient = new java.util.LinkedHashMap<>();
        for (TrapHit hit : hits) {
            byClient.computeIfAbsent(hit.key(), k -> new ArrayList<>(1)).add(hit);
        }
        List<CompletableFuture<List<Offender>>> groups = new ArrayList<>();
        List<TrapHit> group = new ArrayList<>();
        int clients = 0;
        for (List<TrapHit> same : byClient.values()) {
            group.addAll(same);
            if (++clients % CLIENTS_PER_GROUP == 0) {
                groups.add(storeGroup(group));
                group = new ArrayList<>();
            }
        }
        if (!group.isEmpty()) {
            groups.add(storeGroup(group));
        }
        CompletableFuture<List<Offender>> all = CompletableFuture.allOf(groups.toArray(new CompletableFuture[0])).thenApply(x -> {
            List<Offender> out = new ArrayList<>(hits.size());
            groups.forEach(g -> out.addAll(g.join()));
            return out;
        });
        all.whenComplete((o, e) -> wakeUp());
        return all;
    }

    private CompletableFuture<List<Offender>> storeGroup(List<TrapHit> group) {
        try {
            return store.recordAll(group).toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public void close() {
        running = false;
        queue.add(STOP);
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        replayer.interrupt();
        try {
            replayer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
