package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.cql.BoundStatement;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.offender.TrapHit;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A listing's static columns in its key's {@code offenders} partition and the feed entries that tell every node of it:
 * how they are written for a trap listing, a listing by hand or by prefix escalation, and a forgive.
 */
final class Listings {
    private final Clock clock;
    private final OffenderPolicy policy;
    private final Feed feed;

    Listings(Clock clock, OffenderPolicy policy, Feed feed) {
        this.clock = clock;
        this.policy = policy;
        this.feed = feed;
    }

    /**
     * The static columns of {@code r}'s listing, at {@link ClientRecord#writeTime}, kept until the listing's end plus the
     * policy's history lifetime (a repeat offence within it escalates; {@link #ttl}); the cause as {@link #causeBound}.
     */
    static BoundStatement listingRow(Statements p, ClientRecord r, Instant now, OffenderPolicy policy, boolean clearCause) {
        BoundStatement row = p.writeListing.bind(r.key, r.expiresAt, r.listedAt, r.offences, r.hitCount, r.firstHit, r.lastHit, r.trap, r.helo,
            r.mailFrom, r.node, r.reason, r.cause, r.generation, ttl(r, now, policy), r.writeTime());
        return causeBound(row, r, clearCause);
    }

    /**
     * {@link #listingRow} and the evidence of hit {@code h} in {@code slot}, in one INSERT: every cell of a record write
     * carries the listing's write time and TTL, so an evidence slot is kept by the same write that keeps the listing.
     */
    static BoundStatement recordRow(Statements p, ClientRecord r, int slot, TrapHit h, Instant now, OffenderPolicy policy, boolean clearCause) {
        BoundStatement row = p.writeRecord.bind(r.key, slot, h.at(), h.id(), h.client(), h.trap(), h.helo(), h.mailFrom(), h.node(),
            r.expiresAt, r.listedAt, r.offences, r.hitCount, r.firstHit, r.lastHit, r.trap, r.helo, r.mailFrom, r.node, r.reason, r.cause,
            r.generation, ttl(r, now, policy), r.writeTime());
        return causeBound(row, r, clearCause);
    }

    /** {@code row} with a null cause left unset unless {@code clearCause} (the replaced listing held one): a bound null is a tombstone. */
    private static BoundStatement causeBound(BoundStatement row, ClientRecord r, boolean clearCause) {
        return r.cause == null && !clearCause ? row.unset("cause") : row;
    }

    /** Another evidence slot of the same record write ({@link #recordRow}): the listing's write time and TTL. */
    static BoundStatement evidenceRow(Statements p, ClientRecord r, int slot, TrapHit h, Instant now, OffenderPolicy policy) {
        return p.writeEvidence.bind(r.key, slot, h.at(), h.id(), h.client(), h.trap(), h.helo(), h.mailFrom(), h.node(), ttl(r, now, policy),
            r.writeTime());
    }

    /**
     * Seconds a record write's cells live: until the listing's end plus the history lifetime. An evidence slot lives as
     * long (at least its hit plus the history lifetime: a hit counted is never after the listing's end).
     */
    private static int ttl(ClientRecord r, Instant now, OffenderPolicy policy) {
        return Math.max(1, Statements.ttlSeconds(now, r.expiresAt.plus(policy.historyLifetime())));
    }

    CompletableFuture<Void> announceListed(Statements p, ClientRecord r) {
        return feed.publish(p, Change.listedKind(r.offender().cause()), r.key, r.expiresAt, r.generation);
    }

    /** Writes one feed entry about a small table (traps, allowlist). */
    CompletionStage<Void> announce(Statements p, String kind) {
        return feed.publish(p, kind, "", null, 0);
    }

    CompletionStage<ClientRecord> read(Statements p, String key) {
        return Paging.collect(p.session.executeAsync(p.read(p.readClient.bind(key))), r -> r).thenApply(rows -> ClientRecord.of(key, rows));
    }

    /**
     * Lists {@code key} until {@code until} for {@code reason} (manual, prefix-escalation) unless {@code onlyIfUnlisted}
     * and it is listed now; a longer listing already there stays (the longer end wins). Completes with the listing
     * stored, or empty when nothing was written.
     */
    CompletionStage<java.util.Optional<Offender>> list(Statements p, String key, Instant until, String reason, String cause, String node,
                                                       int hits, boolean onlyIfUnlisted) {
        Instant now = clock.instant();
        return read(p, key).thenCompose(r -> {
            if (onlyIfUnlisted && r.activeAt(now)) {
                return CompletableFuture.completedFuture(java.util.Optional.<Offender>empty());
            }
            if ((reason.startsWith("protocol:") || reason.startsWith("observe:")) && r.activeAt(now) && !r.isProtocol()) {
                // a protocol sensor never weakens a trap, prefix or manual listing
                return CompletableFuture.completedFuture(java.util.Optional.<Offender>empty());
            }
            boolean hadCause = r.cause != null;
            boolean longer = r.activeAt(now) && r.expiresAt.isAfter(until);
            if (!longer) {
                if (r.isForgiven()) {
                    r.offences = 0;
                    r.hitCount = 0;
                    r.firstHit = null;
                    r.lastHit = null;
                }
                r.expiresAt = until;
                r.listedAt = now;
                r.reason = reason;
                r.cause = cause;
                r.node = node;
                r.hitCount = Math.max(r.hitCount, hits);
                r.firstHit = r.firstHit == null ? now : r.firstHit;
                r.lastHit = r.lastHit == null ? now : r.lastHit;
            }
            if (longer) {
                return CompletableFuture.completedFuture(java.util.Optional.of(r.offender()));
            }
            return p.session.executeAsync(p.write(listingRow(p, r, now, policy, hadCause)))
                .thenCompose(x -> announceListed(p, r))
                .thenApply(x -> java.util.Optional.of(r.offender()));
        });
    }

    /**
     * Forgives {@code key}: its listing is replaced, one generation up, by a forgiven marker (no delete: nothing for a
     * replica that missed it to resurrect), and every node is told. Hits its nodes made before they knew of it are
     * ignored from then on (their generation is lower). Completes with whether it was listed.
     */
    CompletionStage<Boolean> forgive(Statements p, String key) {
        Instant now = clock.instant();
        return read(p, key).thenCompose(r -> {
            boolean wasListed = r.activeAt(now);
            int generation = r.generation + 1;
            int ttl = Math.max(1, Statements.ttlSeconds(now, now.plus(policy.maxLifetime()).plus(policy.historyLifetime())));
            BoundStatement marker = p.writeForgiven.bind(key, now, now, null, generation, now, ttl, ClientRecord.forgiveWriteTime(generation));
            if (r.cause == null) {
                marker = marker.unset("cause");
            }
            return p.session.executeAsync(p.write(marker))
                .thenCompose(x -> feed.publish(p, Change.REMOVED, key, null, generation))
                .thenApply(x -> wasListed);
        });
    }
}
