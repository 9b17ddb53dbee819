package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.offender.TrapHit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The recording path (docs/store.md, "Recording"): the hits of a group, by offender key; per key one single-partition
 * read of its record ({@link ClientRecord}: listing and evidence slot ids), the hits added to it, then one
 * single-partition write (the evidence slots won and the listing, every cell at {@link ClientRecord#writeTime}: one INSERT for one
 * hit counted, an unlogged batch for more); a listing that
 * began is announced on the feed once written. A client with 200,000 hits reads and writes at most
 * {@link ClientRecord#SLOTS} evidence rows, like a fresh one.
 */
final class HitRecording {
    private static final Logger LOGGER = LoggerFactory.getLogger(HitRecording.class);

    private final OffenderPolicy policy;
    private final Clock clock;
    private final Listings listings;
    private final PrefixListing prefixes;

    HitRecording(OffenderPolicy policy, Clock clock, Listings listings, PrefixListing prefixes) {
        this.policy = policy;
        this.clock = clock;
        this.listings = listings;
        this.prefixes = prefixes;
    }

    /** Records a group of hits; completes with each hit's listing (after the group), in the hits' order. */
    CompletionStage<List<Offender>> recordAll(Statements p, List<TrapHit> hits) {
        Instant now = clock.instant();
        Map<String, List<TrapHit>> byKey = new LinkedHashMap<>();
        for (TrapHit hit : hits) {
            if (Statements.ttlSeconds(now, hit.at().plus(policy.historyLifetime())) <= 0) {
                continue; // replayed long after it happened: the history has forgotten it already
            }
            byKey.computeIfAbsent(hit.key(), k -> new ArrayList<>(1)).add(hit);
        }
        Map<String, CompletableFuture<Offender>> byClient = new HashMap<>(byKey.size() * 2);
        for (Map.Entry<String, List<TrapHit>> e : byKey.entrySet()) {
            byClient.put(e.getKey(), recordClient(p, e.getKey(), e.getValue()));
        }
        CompletionStage<Void> done = CompletableFuture.allOf(byClient.values().toArray(new CompletableFuture[0]));
        if (prefixes.enabled()) {
            List<TrapHit> counted = new ArrayList<>();
            byKey.values().forEach(counted::addAll);
            done = done.thenCompose(x -> prefixes.countAll(p, counted));
        }
        return done.thenApply(x -> {
            List<Offender> out = new ArrayList<>(hits.size());
            for (TrapHit hit : hits) {
                CompletableFuture<Offender> o = byClient.get(hit.key());
                out.add(o != null ? o.join() : new Offender(hit.key(), hit.at(), hit.at(), 0, hit.trap(), hit.helo(), hit.mailFrom(), hit.node(),
                    Instant.EPOCH));
            }
            return out;
        });
    }

    /** How long this node remembers the first listings it wrote, for a concurrent one made elsewhere to be noticed. */
    static final java.time.Duration FIRST_WRITES_KEPT = java.time.Duration.ofMinutes(5);

    /** A first listing this node wrote (its read found nothing under the key): the hits it wrote, and whether it is written yet. */
    private static final class FirstWrite {
        final long startedNanos = System.nanoTime();
        final List<TrapHit> hits;
        boolean written;
        boolean conflict;

        FirstWrite(List<TrapHit> hits) {
            this.hits = List.copyOf(hits);
        }
    }

    private final Map<String, FirstWrite> firstWrites = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ConcurrentLinkedQueue<Map.Entry<String, FirstWrite>> firstWritesByAge =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Per key, the last of this node's writes to it: a key's groups (and recounts) run one after the other, never side by side. */
    private final Map<String, CompletableFuture<Offender>> tails = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Runs {@code step} once this node's previous step on {@code key} has finished (each reads what the one before wrote),
     * so two groups of one client in flight at once never compute from the same read.
     */
    private CompletableFuture<Offender> serially(String key, java.util.function.Supplier<CompletableFuture<Offender>> step) {
        CompletableFuture<Offender> mine = new CompletableFuture<>();
        CompletableFuture<Offender> before = tails.put(key, mine);
        // the common case (no earlier step of this key in flight) starts at once, without a stage in between
        CompletableFuture<Offender> run;
        if (before == null) {
            try {
                run = step.get();
            } catch (RuntimeException e) {
                run = CompletableFuture.failedFuture(e); // as thenCompose would: the key's tail completes either way
            }
        } else {
            run = before.handle((o, e) -> null).thenCompose(x -> step.get());
        }
        run.whenComplete((o, e) -> {
            tails.remove(key, mine);
            if (e != null) {
                mine.completeExceptionally(e);
            } else {
                mine.complete(o);
            }
        });
        return mine;
    }

    /**
     * One client's hits, recorded by {@link #recordStep} after this node's previous step of the key; hits of the key that
     * come while that step is still waiting join it.
     */
    private CompletableFuture<Offender> recordClient(Statements p, String key, List<TrapHit> hits) {
        // hits of a key whose step is in flight wait in one step for it, joined by every later group of the key meanwhile:
        // a flood's hits spread over several batches in flight share one read and one write per round trip
        Waiting[] created = new Waiting[1];
        Waiting waiting = this.waiting.compute(key, (k, w) -> {
            if (w != null && !w.started) {
                w.hits.addAll(hits);
                return w;
            }
            created[0] = new Waiting(hits);
            return created[0];
        });
        if (created[0] == null) {
            return waiting.result;
        }
        serially(key, () -> {
            this.waiting.compute(key, (k, w) -> {
                waiting.started = true; // from here on its hits are fixed: later ones wait in a new step
                return w == waiting ? null : w;
            });
            return recordStep(p, key, waiting.hits);
        }).whenComplete((o, e) -> {
            if (e != null) {
                waiting.result.completeExceptionally(e);
            } else {
                waiting.result.complete(o);
            }
        });
        return waiting.result;
    }

    /** One key's hits waiting for the key's step in flight, and the listing they all complete with. */
    private static final class Waiting {
        final List<TrapHit> hits;
        final CompletableFuture<Offender> result = new CompletableFuture<>();
        /** Set (under the map's lock of the key) when its step starts. */
        boolean started;

        Waiting(List<TrapHit> hits) {
            this.hits = new ArrayList<>(hits);
        }
    }

    private final Map<String, Waiting> waiting = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Reads the key's record, adds the hits, writes what changed and announces a listing that began. A write made on a
     * record with nothing stored (a first hit) is remembered for a while: if another node's first listing of the same key
     * shows up on the feed ({@link #listedElsewhere}), both writes may have taken the same evidence slot and counted one
     * hit each, so this node's hits are recorded again on what is stored: a hit found in the evidence counts nothing, a
     * lost one counts once.
     */
    private CompletableFuture<Offender> recordStep(Statements p, String key, List<TrapHit> hits) {
        return listings.read(p, key).thenCompose(record -> {
            if (!record.isEmpty()) {
                return write(p, record, hits);
            }
            FirstWrite mine = firstWrite(key, hits);
            return write(p, record, hits).whenComplete((o, e) -> {
                boolean recheck;
                synchronized (mine) {
                    mine.written = true;
                    recheck = mine.conflict;
                }
                if (recheck) {
                    recount(p, key, mine);
                }
            });
        }).toCompletableFuture();
    }

    private FirstWrite firstWrite(String key, List<TrapHit> hits) {
        long now = System.nanoTime();
        for (Map.Entry<String, FirstWrite> old = firstWritesByAge.peek(); old != null
                && now - old.getValue().startedNanos > FIRST_WRITES_KEPT.toNanos(); old = firstWritesByAge.peek()) {
            firstWritesByAge.poll();
            firstWrites.remove(old.getKey(), old.getValue());
        }
        FirstWrite mine = new FirstWrite(hits);
        firstWrites.put(key, mine);
        firstWritesByAge.add(Map.entry(key, mine));
        return mine;
    }

    /** Another writer's feed announced a listing of {@code key} that began: if this node just wrote a first listing of it too, recount. */
    void listedElsewhere(Statements p, String key) {
        FirstWrite mine = firstWrites.get(key);
        if (mine == null) {
            return;
        }
        boolean recheck;
        synchronized (mine) {
            recheck = !mine.conflict && mine.written;
            mine.conflict = true;
        }
        if (recheck) {
            recount(p, key, mine);
        }
    }

    /** Records this node's first hits of {@code key} again on what is stored now: only hits lost from the evidence count. */
    private void recount(Statements p, String key, FirstWrite mine) {
        int[] before = new int[1];
        serially(key, () -> listings.read(p, key).thenCompose(record -> {
            before[0] = record.hitCount;
            return write(p, record, mine.hits);
        }).toCompletableFuture()).whenComplete((o, e) -> {
            if (e != null) {
                LOGGER.warn("Offender {}: recount after a first hit on another node at the same time failed: {}", key, e.toString());
            } else if (o.hitCount() > before[0]) {
                LOGGER.info("Offender {}: first hits on two nodes at the same time; {} hit(s) of this node counted again", key, o.hitCount() - before[0]);
            }
        });
    }

    /**
     * Adds {@code hits} to {@code record}, writes the evidence won and the listing in one single-partition request (one
     * INSERT when one hit was counted), and announces a listing that began.
     */
    private CompletableFuture<Offender> write(Statements p, ClientRecord record, List<TrapHit> hits) {
        String key = record.key;
        String causeBefore = record.cause;
        ClientRecord.Outcome outcome = record.record(hits, policy);
        if (outcome.forgiven > 0) {
            LOGGER.info("Offender {}: {} hit(s) made before their node knew of its forgive ignored", key, outcome.forgiven);
        }
        if (outcome.evidence.isEmpty()) {
            return CompletableFuture.completedFuture(record.offender()); // replays or forgiven: nothing new
        }
        Instant now = clock.instant();
        List<BatchableStatement<?>> rows = new ArrayList<>(outcome.evidence.size());
        outcome.evidence.forEach((slot, h) -> rows.add(rows.isEmpty()
            ? Listings.recordRow(p, record, slot, h, now, policy, causeBefore != null)
            : Listings.evidenceRow(p, record, slot, h, now, policy)));
        return p.session.executeAsync(p.write(rows)).toCompletableFuture()
            .thenCompose(x -> outcome.listed ? listings.announceListed(p, record) : CompletableFuture.completedFuture(null))
            .thenApply(x -> record.offender());
    }
}
