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

    /** Re-reads of a lost claim's key while waiting for the claimer's write to land, and the pause between them. */
    static final int CLAIM_READS = 20;
    static final long CLAIM_PAUSE_MILLIS = 25;

    /**
     * One client's hits: read its record, add them, write what changed, announce a listing that began. When nothing is
     * stored under the key, the first hit claims it ({@link Schema#CLAIM_SLOT}, one lightweight transaction per new key):
     * a node that loses the claim to another node's first hit waits for that node's write and adds its hits on top, so
     * both are counted whatever the clocks say.
     */
    private CompletableFuture<Offender> recordClient(Statements p, String key, List<TrapHit> hits) {
        return listings.read(p, key).thenCompose(record -> {
            if (!record.isEmpty()) {
                return write(p, record, hits, null);
            }
            TrapHit claim = hits.stream().min(java.util.Comparator.comparing(TrapHit::at).thenComparing(TrapHit::id)).orElseThrow();
            Instant now = clock.instant();
            int ttl = Math.max(1, Statements.ttlSeconds(now, claim.at().plus(policy.historyLifetime())));
            return p.session.executeAsync(p.conditional(p.claimFirst.bind(key, claim.at(), claim.id(), claim.client(), claim.trap(), claim.helo(),
                    claim.mailFrom(), claim.node(), ttl)))
                .thenCompose(rs -> {
                    boolean applied = rs.wasApplied();
                    com.datastax.oss.driver.api.core.cql.Row row = rs.one();
                    String claimedBy = applied || row == null ? claim.id() : row.getString("hit_id");
                    if (claimedBy == null || hits.stream().anyMatch(h -> h.id().equals(claimedBy))) {
                        return write(p, record, hits, null); // ours (now, or by an earlier attempt of this hit)
                    }
                    TrapHit theirs = new TrapHit(claimedBy, key, row.getString("hit_client") == null ? key : row.getString("hit_client"),
                        row.getInstant("hit_at"), row.getString("hit_trap") == null ? "" : row.getString("hit_trap"), row.getString("hit_helo"),
                        row.getString("hit_mail_from"), row.getString("hit_node"));
                    return afterClaimer(p, key, CLAIM_READS).thenCompose(r -> r.isEmpty() && theirs.at() != null
                        ? write(p, r, hits, theirs) // the claimer's write is late: its first hit is added as it will add it
                        : write(p, r, hits, null));
                });
        }).toCompletableFuture();
    }

    /** The key's record once the claimer's write has landed (not empty), or still empty after {@code reads} reads. */
    private CompletionStage<ClientRecord> afterClaimer(Statements p, String key, int reads) {
        return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(CLAIM_PAUSE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS))
            .thenCompose(x -> listings.read(p, key))
            .thenCompose(r -> !r.isEmpty() || reads <= 1 ? CompletableFuture.completedFuture(r) : afterClaimer(p, key, reads - 1));
    }

    /**
     * Adds {@code hits} to {@code record} (after the claimer's first hit {@code claimersFirst}, when its write has not
     * landed: added exactly as the claimer adds it to the same empty record), writes the evidence won and the listing in one
     * single-partition batch, and announces a listing that began.
     */
    private CompletableFuture<Offender> write(Statements p, ClientRecord record, List<TrapHit> hits, TrapHit claimersFirst) {
        String key = record.key;
        String causeBefore = record.cause;
        ClientRecord.Outcome outcome = record.record(claimersFirst == null ? List.of() : List.of(claimersFirst), policy);
        ClientRecord.Outcome own = record.record(hits, policy);
        outcome.evidence.putAll(own.evidence);
        outcome.listed |= own.listed;
        outcome.forgiven += own.forgiven;
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
