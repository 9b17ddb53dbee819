package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
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
 * single-partition write (the evidence slots won and the listing, at {@link ClientRecord#writeTime}); a listing that
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
            byKey.computeIfAbsent(hit.ip(), k -> new ArrayList<>(1)).add(hit);
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
                CompletableFuture<Offender> o = byClient.get(hit.ip());
                out.add(o != null ? o.join() : new Offender(hit.ip(), hit.at(), hit.at(), 0, hit.trap(), hit.helo(), hit.mailFrom(), hit.node(),
                    Instant.EPOCH));
            }
            return out;
        });
    }

    /** How long this node remembers the first listings it wrote, for a concurrent one made elsewhere to be noticed. */
    static final java.time.Duration FIRST_WRITES_KEPT = java.time.Duration.ofMinutes(5);

    /** A first listing this node wrote (its read found nothing under the key): the hits it wrote, and whether another first write met it. */
    private static final class FirstWrite {
        final long startedNanos = System.nanoTime();
        final List<TrapHit> hits = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile int inFlight;
        volatile boolean conflict;
    }

    private final Map<String, FirstWrite> firstWrites = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ConcurrentLinkedQueue<Map.Entry<String, FirstWrite>> firstWritesByAge =
        new java.util.concurrent.ConcurrentLinkedQueue<>();

    /**
     * One client's hits: read its record, add them, write what changed, announce a listing that began. A write made on a
     * record with nothing stored (a first hit) is remembered for a while: if another node's first listing of the same key
     * shows up on the feed ({@link #listedElsewhere}), or another group of this node wrote one at the same time, both
     * writes may have taken the same evidence slot and counted one hit each, so this node's hits are recorded again on top
     * of what is stored: a hit found in the evidence counts nothing, a lost one counts once.
     */
    private CompletableFuture<Offender> recordClient(Statements p, String key, List<TrapHit> hits) {
        return listings.read(p, key).thenCompose(record -> {
            if (!record.isEmpty()) {
                return write(p, record, hits);
            }
            FirstWrite mine = firstWrite(key, hits);
            return write(p, record, hits).whenComplete((o, e) -> {
                boolean recheck;
                synchronized (mine) {
                    mine.inFlight--;
                    recheck = mine.conflict && mine.inFlight == 0;
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
        FirstWrite created = new FirstWrite();
        FirstWrite mine = firstWrites.putIfAbsent(key, created);
        if (mine == null) {
            mine = created;
            firstWritesByAge.add(Map.entry(key, created));
        }
        synchronized (mine) {
            if (mine.inFlight > 0 || !mine.hits.isEmpty()) {
                mine.conflict = true; // another group of this node found the key empty too
            }
            mine.inFlight++;
            mine.hits.addAll(hits);
        }
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
            mine.conflict = true;
            recheck = mine.inFlight == 0;
        }
        if (recheck) {
            recount(p, key, mine);
        }
    }

    /** Records this node's first hits of {@code key} again on what is stored now: only hits lost from the evidence count. */
    private void recount(Statements p, String key, FirstWrite mine) {
        List<TrapHit> hits = List.copyOf(mine.hits);
        listings.read(p, key).thenCompose(record -> {
            int before = record.hitCount;
            return write(p, record, hits).thenApply(o -> o.hitCount() - before);
        }).whenComplete((added, e) -> {
            if (e != null) {
                LOGGER.warn("Offender {}: recount after a first hit on another node at the same time failed: {}", key, e.toString());
            } else if (added > 0) {
                LOGGER.info("Offender {}: first hits on two nodes at the same time; {} hit(s) of this node counted again", key, added);
            }
        });
    }

    /** Adds {@code hits} to {@code record}, writes the evidence won and the listing in one single-partition batch, and announces a listing that began. */
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
        List<BatchableStatement<?>> rows = new ArrayList<>(outcome.evidence.size() + 1);
        outcome.evidence.forEach((slot, h) -> rows.add(evidenceRow(p, slot, h, now)));
        rows.add(Listings.listingRow(p, record, now, policy, causeBefore != null));
        return p.session.executeAsync(p.write(rows)).toCompletableFuture()
            .thenCompose(x -> outcome.listed ? listings.announceListed(p, record) : CompletableFuture.completedFuture(null))
            .thenApply(x -> record.offender());
    }

    private BoundStatement evidenceRow(Statements p, int slot, TrapHit h, Instant now) {
        int ttl = Math.max(1, Statements.ttlSeconds(now, h.at().plus(policy.historyLifetime())));
        long micros = h.at().getEpochSecond() * 1_000_000L + h.at().getNano() / 1000;
        return p.writeEvidence.bind(h.ip(), slot, h.at(), h.id(), h.client(), h.trap(), h.helo(), h.mailFrom(), h.node(),
            ttl, micros);
    }
}
