package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import dev.spamtrap.core.offender.Offender;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * A listing's {@code offenders} row and the {@code changes} feed entry that tells every node of it: how both are
 * built and written. The feed is bucketed by minute; an entry's id is a time-based UUID.
 */
final class Listings {
    /** Change-feed rows per batch: one partition, well under Cassandra's 5 KB batch warning. */
    static final int CHANGES_PER_BATCH = 25;

    private final Clock clock;
    private final Supplier<String> nodeName;

    Listings(Clock clock, Supplier<String> nodeName) {
        this.clock = clock;
        this.nodeName = nodeName;
    }

    /** This node's name, written with the changes it makes. */
    String nodeName() {
        return nodeName.get();
    }

    /**
     * The {@code offenders} row of a listing. A null {@code cause} is left unset (a bound null writes a tombstone)
     * unless {@code clearCause}: the row being replaced holds one.
     */
    static BoundStatement listingRow(Statements p, Offender o, String reason, String cause, int ttl, boolean clearCause) {
        BoundStatement row = p.writeOffender.bind(o.ip(), o.expiresAt(), reason, o.firstHit(), o.lastHit(), o.hitCount(), o.trap(),
            o.helo(), o.mailFrom(), o.node(), cause, ttl);
        return cause == null && !clearCause ? row.unset("cause") : row;
    }

    /** A feed entry. */
    static BoundStatement change(Statements p, String kind, String key, Instant expiresAt, String node) {
        UUID id = Uuids.timeBased();
        long bucket = Uuids.unixTimestamp(id) / 60_000L;
        return p.writeChange.bind(bucket, id, kind, key == null ? "" : key, expiresAt, node);
    }

    /** The feed entry announcing a listing (by its hit's node, else this one). */
    BoundStatement listed(Statements p, Offender o) {
        return change(p, Change.LISTED, o.ip(), o.expiresAt(), o.node() == null ? nodeName() : o.node());
    }

    /** Writes one feed entry by this node. */
    CompletionStage<Void> announce(Statements p, String kind, String key, Instant expiresAt) {
        return p.session.executeAsync(p.write(change(p, kind, key, expiresAt, nodeName()))).thenApply(x -> null);
    }

    /** Feed entries in single-partition batches (one per minute bucket, a few dozen rows each): one request per batch. */
    List<CompletableFuture<?>> announceAll(Statements p, List<BoundStatement> changes) {
        Map<Long, List<BoundStatement>> byBucket = new LinkedHashMap<>();
        for (BoundStatement c : changes) {
            byBucket.computeIfAbsent(c.getLong(0), k -> new ArrayList<>()).add(c);
        }
        List<CompletableFuture<?>> out = new ArrayList<>();
        for (List<BoundStatement> same : byBucket.values()) {
            for (int i = 0; i < same.size(); i += CHANGES_PER_BATCH) {
                out.add(p.session.executeAsync(p.write(same.subList(i, Math.min(same.size(), i + CHANGES_PER_BATCH)))).toCompletableFuture());
            }
        }
        return out;
    }

    /** Writes a listing's row and its feed entry in one request (unlogged: a replay rewrites both idempotently anyway). */
    CompletionStage<Void> write(Statements p, Offender o, String reason, String cause) {
        int ttl = Statements.ttlSeconds(clock.instant(), o.expiresAt());
        if (ttl <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        return p.session.executeAsync(p.write(List.of(listingRow(p, o, reason, cause, ttl, false), listed(p, o)))).thenApply(x -> null);
    }
}
