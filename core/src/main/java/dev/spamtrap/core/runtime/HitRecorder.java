package dev.spamtrap.core.runtime;

import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.store.HitSpool;
import dev.spamtrap.core.store.OffenderStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
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
 * <li>thread {@code spamtrap-replay}: reads the spool in batches after its checkpoint, records a whole batch
 *     concurrently, and moves the checkpoint when every hit of the batch is stored. While the store is down
 *     the batch waits and is retried every {@code retry.interval}.</li>
 * </ol>
 * {@link #close} spools whatever is still queued before stopping.
 */
final class HitRecorder implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(HitRecorder.class);
    /** Clients recorded together: the store reads their hits and listings back with one query per table. */
    static final int CLIENTS_PER_GROUP = 100;
    /** Groups being written at once: each is about two requests per hit at its start, well within the driver's limits. */
    static final int GROUPS_IN_FLIGHT = 16;
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
    private final Thread writer;
    private final Thread replayer;
    private final AtomicLong stored = new AtomicLong();
    private volatile boolean running = true;

    HitRecorder(HitSpool spool, OffenderStore store, StoreLink link, Listeners listeners, java.util.function.Consumer<Offender> confirmed,
                int batchSize, Duration retry, Duration storeWait) {
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
                    synchronized (wake) {
                        wake.notifyAll();
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

    private void replayLoop() {
        while (running) {
            boolean progressed = false;
            try {
                progressed = replayOnce();
            } catch (RuntimeException e) {
                LOGGER.error("Spamtrap replay failed", e);
            }
            if (!progressed) {
                synchronized (wake) {
                    try {
                        wake.wait(spool.depth() > 0 ? retry.toMillis() : 1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }

    /** Stores one batch; true if it did. */
    boolean replayOnce() {
        HitSpool.Batch batch = spool.read(batchSize);
        if (batch.hits.isEmpty()) {
            if (batch.end > 0) {
                spool.confirm(batch.end, 0);
            }
            return false;
        }
        if (!link.ensure()) {
            return false;
        }
        // Each client's hits of the batch are recorded together (a flood is many hits of few clients), and clients in
        // groups, which the store reads back with one query per table.
        java.util.Map<String, List<TrapHit>> byClient = new java.util.LinkedHashMap<>();
        for (TrapHit hit : batch.hits) {
            byClient.computeIfAbsent(hit.ip(), k -> new ArrayList<>(1)).add(hit);
        }
        List<List<TrapHit>> groups = new ArrayList<>();
        List<TrapHit> group = new ArrayList<>();
        int clients = 0;
        for (List<TrapHit> same : byClient.values()) {
            group.addAll(same);
            if (++clients % CLIENTS_PER_GROUP == 0) {
                groups.add(group);
                group = new ArrayList<>();
            }
        }
        if (!group.isEmpty()) {
            groups.add(group);
        }
        List<CompletableFuture<List<Offender>>> writes = new ArrayList<>(groups.size());
        // Bounded concurrency: a whole batch at once would overrun the driver's requests per connection.
        java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(GROUPS_IN_FLIGHT);
        try {
            for (List<TrapHit> hits : groups) {
                if (!inFlight.tryAcquire(storeWait.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new java.util.concurrent.TimeoutException("store writes did not complete within " + storeWait);
                }
                CompletableFuture<List<Offender>> w = store.recordAll(hits).toCompletableFuture();
                w.whenComplete((o, e) -> inFlight.release());
                writes.add(w);
            }
            CompletableFuture.allOf(writes.toArray(new CompletableFuture[0])).get(storeWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            link.failed(StoreLink.rootMessage(e) + "; " + spool.depth() + " hit(s) kept in " + spool.file());
            return false;
        }
        spool.confirm(batch.end, batch.hits.size());
        stored.addAndGet(batch.hits.size());
        link.up();
        for (CompletableFuture<List<Offender>> w : writes) {
            for (Offender o : w.join()) {
                confirmed.accept(o);
                listeners.recorded(o);
            }
        }
        return true;
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
