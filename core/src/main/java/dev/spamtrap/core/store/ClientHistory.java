package dev.spamtrap.core.store;

import java.lang.invoke.VarHandle;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * What this node knows of which clients may have hits remembered in the store, so that a client it has never
 * heard of is recorded without reading its history back first (one request instead of three: most trap hits come
 * from clients never seen before).
 *
 * <p>A key is known (may have history) until its <em>horizon</em>: a listing that ends at {@code E} can have hits
 * remembered until {@code E + history lifetime} at the latest. Keys come from every listing this node sees (change
 * feed, full load, its own hits) and, once after start, from a scan of the hit table's keys; until that scan has
 * finished nothing is fresh. The keys are held in a {@link HistoryFilter} (about 2 bytes each): it may
 * take a fresh client for a known one (about 0.1 % of them, recorded the careful way), never the reverse.
 *
 * <p>A client whose first hits land on two nodes within the feed's delay is fresh on both. Each node registers a
 * fresh write before it checks the history, and the feed records a foreign listing before it checks the
 * registrations, so at least one of the two sees the other; that node recounts the client from its stored hits once
 * its own write has landed ({@code recount}). Registrations are kept {@link #REGISTRATION} long: a feed more than that
 * late (a store outage) can leave such a client listed as a first offender. Hits are never lost either way.
 */
public final class ClientHistory {
    /** How long a fresh write is remembered for a foreign listing of the same client to trigger a recount. */
    static final Duration REGISTRATION = Duration.ofSeconds(30);

    private final Clock clock;
    private final Duration historyLifetime;
    private final HistoryFilter known = new HistoryFilter();
    private final Map<String, CompletableFuture<Void>> fresh = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Registration> order = new ConcurrentLinkedQueue<>();
    private volatile Consumer<String> recount = key -> { };
    private volatile boolean complete;
    private final java.util.concurrent.atomic.AtomicLong freshClaims = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong recounts = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong freshLanded = new java.util.concurrent.atomic.AtomicLong();

    private static final class Registration {
        final String key;
        final long atMillis;
        final CompletableFuture<Void> landed;

        Registration(String key, long atMillis, CompletableFuture<Void> landed) {
            this.key = key;
            this.atMillis = atMillis;
            this.landed = landed;
        }
    }

    public ClientHistory(Clock clock, Duration historyLifetime) {
        this.clock = clock;
        this.historyLifetime = historyLifetime;
    }

    /** What recounts a client from its stored hits (the store); called on a driver thread, must not block. */
    void recountWith(Consumer<String> recount) {
        this.recount = recount;
    }

    /**
     * Claims {@code key} for a write without a read: true if this node knows of no history of it (and the scan after
     * start has finished). The caller must then call {@link #landed} or {@link #failed}.
     */
    boolean claimFresh(String key) {
        if (!complete) {
            return false;
        }
        CompletableFuture<Void> landed = new CompletableFuture<>();
        if (fresh.putIfAbsent(key, landed) != null) {
            return false; // a fresh write of it is already under way here: take the careful path
        }
        VarHandle.fullFence(); // the registration is visible before the history is read (see listedElsewhere)
        if (known.mightContain(key, clock.instant().getEpochSecond())) {
            fresh.remove(key, landed);
            return false;
        }
        order.add(new Registration(key, clock.millis(), landed));
        freshClaims.incrementAndGet();
        return true;
    }

    /** The fresh write of {@code key} landed, listing it until {@code expiresAt} (null if no listing was written). */
    void landed(String key, Instant expiresAt) {
        freshLanded.incrementAndGet();
        remembered(key, expiresAt);
        CompletableFuture<Void> f = fresh.get(key);
        if (f != null) {
            f.complete(null);
        }
    }

    /** The fresh write failed: it will be replayed, by then as a known client. */
    void failed(String key) {
        remembered(key, null);
        CompletableFuture<Void> f = fresh.remove(key);
        if (f != null) {
            f.complete(null);
        }
    }

    /** This node wrote hits of {@code key} (either path), or read a listing of it (full load). */
    public void remembered(String key, Instant expiresAt) {
        Instant base = expiresAt != null ? expiresAt : clock.instant();
        known.put(key, base.plus(historyLifetime).getEpochSecond() + 1);
    }

    /** Another node listed {@code key}: remember it, and recount if this node wrote it fresh meanwhile. */
    public void listedElsewhere(String key, Instant expiresAt) {
        remembered(key, expiresAt);
        VarHandle.fullFence(); // the key is visible before the registrations are read (see claimFresh)
        CompletableFuture<Void> f = fresh.get(key);
        if (f != null) {
            f.thenRun(() -> {
                recounts.incrementAndGet();
                recount.accept(key);
            });
        }
    }

    /** A key of the hit table seen by the scan after start. */
    public void hasHits(String key) {
        remembered(key, null);
    }

    /** The scan after start has finished: from now on unknown clients are fresh. */
    public void complete() {
        complete = true;
    }

    public boolean isComplete() {
        return complete;
    }

    /** Forgets registrations older than {@link #REGISTRATION} and keys past their horizon. */
    public void sweep(boolean purgeKeys) {
        long horizon = clock.millis() - REGISTRATION.toMillis();
        Registration r;
        while ((r = order.peek()) != null && r.atMillis < horizon) {
            order.poll();
            if (r.landed.isDone()) {
                fresh.remove(r.key, r.landed);
            } else {
                order.add(new Registration(r.key, clock.millis(), r.landed)); // still writing: keep it a while longer
            }
        }
        if (purgeKeys) {
            known.purge(clock.instant().getEpochSecond());
        }
    }

    /** Keys held (counted per week they were filed in) and their bytes. */
    public long size() {
        return known.keys();
    }

    public long bytes() {
        return known.bytes();
    }

    /** Clients recorded without a read since start. */
    public long freshClaims() {
        return freshClaims.get();
    }

    /** Clients whose fresh write landed at its first attempt, since start (the others were replayed as known). */
    public long freshLanded() {
        return freshLanded.get();
    }

    /** Clients recounted after a concurrent first hit elsewhere, since start. */
    public long recounts() {
        return recounts.get();
    }

    int registrations() {
        return fresh.size();
    }
}
