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

    /** One client's hits: read its record, add them, write what changed, announce a listing that began. */
    private CompletableFuture<Offender> recordClient(Statements p, String key, List<TrapHit> hits) {
        return p.session.executeAsync(p.read(p.readClient.bind(key)))
            .thenCompose(rs -> Paging.collect(CompletableFuture.completedFuture(rs), r -> r))
            .thenCompose(rows -> {
                ClientRecord record = ClientRecord.of(key, rows);
                String causeBefore = record.cause;
                ClientRecord.Outcome outcome = record.record(hits, policy);
                if (outcome.forgiven > 0) {
                    LOGGER.info("Offender {}: {} hit(s) made before their node knew of its forgive ignored", key, outcome.forgiven);
                }
                if (outcome.evidence.isEmpty()) {
                    return CompletableFuture.completedFuture(record.offender()); // replays or forgiven: nothing new
                }
                Instant now = clock.instant();
                List<BatchableStatement<?>> rows2 = new ArrayList<>(outcome.evidence.size() + 1);
                outcome.evidence.forEach((slot, h) -> rows2.add(evidenceRow(p, slot, h, now)));
                rows2.add(Listings.listingRow(p, record, now, policy, causeBefore != null));
                return p.session.executeAsync(p.write(rows2)).toCompletableFuture()
                    .thenCompose(x -> outcome.listed ? listings.announceListed(p, record) : CompletableFuture.completedFuture(null))
                    .thenApply(x -> record.offender());
            }).toCompletableFuture();
    }

    private BoundStatement evidenceRow(Statements p, int slot, TrapHit h, Instant now) {
        int ttl = Math.max(1, Statements.ttlSeconds(now, h.at().plus(policy.historyLifetime())));
        long micros = h.at().getEpochSecond() * 1_000_000L + h.at().getNano() / 1000;
        return p.writeEvidence.bind(h.ip(), slot, h.at(), h.id(), h.client(), h.trap(), h.helo(), h.mailFrom(), h.node(),
            ttl, micros);
    }
}
