package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.Row;
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
import java.util.function.BiFunction;
import java.util.function.Predicate;

/**
 * The recording path: a group of trap hits to {@code hits} rows, the listings they derive ({@link OffenderPolicy}) and
 * the feed entries announcing them (docs/store.md, "Recording"). Each hit is a row keyed by (client key, time, hit id),
 * so writing it twice is writing it once; a listing is derived from every remembered hit of its key, so replays count
 * once and hits of one client on several nodes all count.
 */
final class HitRecording {
    private static final Logger LOGGER = LoggerFactory.getLogger(HitRecording.class);
    /**
     * Hits of one client written as one request (a single-partition batch, a few KB): a fresh client with more takes the
     * careful path.
     */
    static final int FRESH_MAX_HITS = 16;
    /**
     * Fresh clients written in one request when their partitions share replicas ({@link ReplicaBatches}): at most this
     * many clients (Cassandra warns above 10 partitions per unlogged batch) and rows (a row is a few hundred bytes; it
     * warns above 5 KiB).
     */
    static final int FRESH_PER_BATCH = 8;
    static final int FRESH_ROWS_PER_BATCH = 16;
    /** ... and bytes of data (under Cassandra's 5 KiB batch warning; HELO and MAIL FROM are the client's choice). */
    static final int FRESH_BYTES_PER_BATCH = 4096;
    /** Per cell beside its value: write time, TTL and expiry, as Cassandra counts a batch's size. */
    private static final int CELL_OVERHEAD = 16;

    private final OffenderPolicy policy;
    private final Clock clock;
    private final Listings listings;
    private final PrefixListing prefixes;
    /** A stored offenders row with its expiry as an Offender (the row's own evidence where it is well-formed). */
    private final BiFunction<Row, Instant, Offender> rowReader;
    private volatile Predicate<String> maybeListed = key -> true;
    private volatile ClientHistory history;

    HitRecording(OffenderPolicy policy, Clock clock, Listings listings, PrefixListing prefixes, BiFunction<Row, Instant, Offender> rowReader) {
        this.policy = policy;
        this.clock = clock;
        this.listings = listings;
        this.prefixes = prefixes;
        this.rowReader = rowReader;
    }

    /** See {@link CassandraOffenderStore#listingHint}. */
    void listingHint(Predicate<String> maybeListed) {
        this.maybeListed = maybeListed;
    }

    /** See {@link CassandraOffenderStore#clientHistory}. */
    void clientHistory(ClientHistory history) {
        this.history = history;
    }

    /**
     * Records a group of hits in few requests, each client by one of two paths:
     * <ul>
     * <li><b>fresh</b> (this node knows of no history of the client, {@link ClientHistory}): its hit rows and its
     *     listing go out together (one partition key, so one mutation), no read; fresh clients whose partitions have
     *     the same replicas share a request ({@link ReplicaBatches});</li>
     * <li><b>known</b>: every hit row is written first, then the hits and listings of all such clients are read back
     *     with one {@code IN} query per table, then each client whose listing changed gets its offender row. Reading
     *     after writing keeps concurrent nodes honest: whichever reads last sees every hit and lists accordingly.</li>
     * </ul>
     * Change-feed entries of the listings written go out in batches once the rows are there.
     */
    CompletionStage<List<Offender>> recordAll(Statements p, List<TrapHit> hits) {
        Instant now = clock.instant();
        Map<String, List<TrapHit>> byKey = new LinkedHashMap<>();
        for (TrapHit hit : hits) {
            if (Statements.ttlSeconds(now, hit.at().plus(policy.historyLifetime())) <= 0) {
                continue; // replayed long after it happened: the history has forgotten it already
            }
            byKey.computeIfAbsent(hit.ip(), k -> new ArrayList<>(1)).add(hit);
        }
        ClientHistory history = this.history;
        Predicate<String> hint = maybeListed;
        List<String> fresh = new ArrayList<>();
        List<String> known = new ArrayList<>();
        for (String key : byKey.keySet()) {
            if (history != null && byKey.get(key).size() <= FRESH_MAX_HITS && !hint.test(key) && history.claimFresh(key)) {
                fresh.add(key);
            } else {
                known.add(key);
            }
        }
        List<CompletableFuture<AsyncResultSet>> written = new ArrayList<>(hits.size());
        for (String key : known) {
            // one client's hits are one partition: up to FRESH_MAX_HITS of them go as one request (one mutation)
            List<TrapHit> same = byKey.get(key);
            for (int i = 0; i < same.size(); i += FRESH_MAX_HITS) {
                List<BoundStatement> rows = new ArrayList<>(FRESH_MAX_HITS);
                for (TrapHit hit : same.subList(i, Math.min(same.size(), i + FRESH_MAX_HITS))) {
                    rows.add(insertHit(p, hit, now));
                }
                written.add(p.session.executeAsync(p.write(rows)).toCompletableFuture());
            }
        }
        CompletableFuture<Map<String, Offender>> listedKnown = known.isEmpty() ? CompletableFuture.completedFuture(Map.of())
            : CompletableFuture.allOf(written.toArray(new CompletableFuture[0])).thenCompose(x -> listAll(p, known, byKey));
        if (history != null) {
            listedKnown.thenAccept(m -> m.forEach((key, o) -> history.remembered(key, o.expiresAt())));
        }
        CompletableFuture<Map<String, Offender>> listedFresh = fresh.isEmpty() ? CompletableFuture.completedFuture(Map.of())
            : writeFresh(p, fresh, byKey, history, now);
        CompletionStage<Map<String, Offender>> done = listedKnown.thenCombine(listedFresh, (a, b) -> {
            Map<String, Offender> all = new HashMap<>(a);
            all.putAll(b);
            return all;
        });
        if (prefixes.enabled()) {
            for (List<TrapHit> same : byKey.values()) {
                for (TrapHit hit : same) {
                    done = done.thenCompose(m -> prefixes.count(p, hit).thenApply(y -> m));
                }
            }
        }
        return done.thenApply(m -> {
            List<Offender> out = new ArrayList<>(hits.size());
            for (TrapHit hit : hits) {
                Offender o = m.get(hit.ip());
                out.add(o != null ? o : new Offender(hit.ip(), hit.at(), hit.at(), 1, hit.trap(), hit.helo(), hit.mailFrom(), hit.node(),
                    hit.at().plus(policy.lifetime())));
            }
            return out;
        });
    }

    /** At least the data a row writes: its text values in UTF-8, its fixed-size values, the overhead of each cell. */
    private static long rowBytes(int cells, int fixed, String... texts) {
        long n = (long) cells * CELL_OVERHEAD + fixed;
        for (String t : texts) {
            n += utf8Length(t);
        }
        return n;
    }

    private static int utf8Length(String s) {
        if (s == null) {
            return 0;
        }
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            n += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3; // a surrogate pair is 4 bytes
        }
        return n;
    }

    private BoundStatement insertHit(Statements p, TrapHit hit, Instant now) {
        int historyTtl = Statements.ttlSeconds(now, hit.at().plus(policy.historyLifetime()));
        return p.insertHit.bind(hit.ip(), hit.at(), hit.id(), hit.client(), hit.trap(), hit.helo(), hit.mailFrom(), hit.node(), historyTtl);
    }

    /**
     * Adds the hits' times to {@code ats}, those already there skipped (Cassandra keeps milliseconds: compared at that
     * precision, or a hit just written counts twice); returns the newest hit.
     */
    private static TrapHit addTimes(List<Instant> ats, List<TrapHit> hits) {
        TrapHit newest = null;
        for (TrapHit h : hits) {
            Instant at = h.at().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
            if (!ats.contains(at)) {
                ats.add(at);
            }
            if (newest == null || h.at().isAfter(newest.at())) {
                newest = h;
            }
        }
        return newest;
    }

    /** The trap listing of {@code key} over the hit times {@code ats}, with the newest hit's evidence. */
    private static Offender trapListing(String key, List<Instant> ats, TrapHit newest, Instant until) {
        return new Offender(key, java.util.Collections.min(ats), java.util.Collections.max(ats), ats.size(), newest.trap(), newest.helo(),
            newest.mailFrom(), newest.node(), until);
    }

    /**
     * Clients with no history known here: the listing follows from this group's hits alone, so each client's hit rows
     * and offender row are one mutation, sent together with those of other clients on the same replicas
     * ({@link ReplicaBatches}); the feed entries follow once the rows are there (a node that reads the feed and recounts
     * must find the hits).
     */
    private CompletableFuture<Map<String, Offender>> writeFresh(Statements p, List<String> keys, Map<String, List<TrapHit>> byKey,
                                                                ClientHistory history, Instant now) {
        Map<String, Offender> out = new HashMap<>(keys.size() * 2);
        Map<String, Instant> listedUntil = new HashMap<>(keys.size() * 2);
        List<BoundStatement> changes = new ArrayList<>();
        ReplicaBatches<String> batches = ReplicaBatches.of(p.session, p.ks, FRESH_PER_BATCH, FRESH_ROWS_PER_BATCH, FRESH_BYTES_PER_BATCH);
        for (String key : keys) {
            List<TrapHit> same = byKey.get(key);
            List<BatchableStatement<?>> rows = new ArrayList<>(same.size() + 1);
            long bytes = 0;
            for (TrapHit h : same) {
                rows.add(insertHit(p, h, now));
                bytes += rowBytes(8, 8 + 8, h.ip(), h.id(), h.client(), h.trap(), h.helo(), h.mailFrom(), h.node());
            }
            List<Instant> ats = new ArrayList<>(same.size());
            TrapHit newest = addTimes(ats, same);
            Instant until = policy.listedUntil(ats);
            Offender o = trapListing(key, ats, newest, until);
            out.put(key, o);
            int ttl = Statements.ttlSeconds(now, until);
            if (ttl > 0) {
                rows.add(Listings.listingRow(p, o, "trap", null, ttl, false));
                bytes += rowBytes(10, 8 + 8 + 8 + 4, o.ip(), "trap", o.trap(), o.helo(), o.mailFrom(), o.node());
                changes.add(listings.listed(p, o));
                listedUntil.put(key, until);
            }
            batches.add(key, ((BoundStatement) rows.get(0)).getRoutingKey(), rows, bytes);
        }
        List<CompletableFuture<?>> writes = new ArrayList<>();
        for (ReplicaBatches.Batch<String> batch : batches.batches()) {
            writes.add(p.session.executeAsync(batch.statement().setConsistencyLevel(p.writeLevel)).toCompletableFuture().whenComplete((rs, e) -> {
                for (String key : batch.tags()) {
                    if (e == null) {
                        history.landed(key, listedUntil.get(key));
                    } else {
                        history.failed(key);
                    }
                }
            }));
        }
        return CompletableFuture.allOf(writes.toArray(new CompletableFuture[0]))
            .thenCompose(x -> CompletableFuture.allOf(listings.announceAll(p, changes).toArray(new CompletableFuture[0])))
            .thenApply(x -> out);
    }

    /**
     * Derives {@code key}'s listing again from every stored hit and rewrites it if the stored listing is shorter or counts
     * fewer hits: after another node listed a client this node had recorded as fresh at the same time.
     */
    CompletionStage<Void> recount(Statements p, String key) {
        List<Instant> ats = new ArrayList<>();
        Row[] newest = new Row[1];
        CompletableFuture<Void> hitsRead = p.session.executeAsync(p.read(p.readHits.bind(key))).thenCompose(rs -> Paging.eachRow(rs, row -> {
            Instant at = row.getInstant("at");
            if (at != null) {
                ats.add(at);
                if (newest[0] == null || at.isAfter(newest[0].getInstant("at"))) {
                    newest[0] = row;
                }
            }
        })).toCompletableFuture();
        CompletableFuture<Row> rowRead = p.session.executeAsync(p.read(p.readOffender.bind(key))).thenApply(AsyncResultSet::one)
            .toCompletableFuture();
        return hitsRead.thenCombine(rowRead, (x, row) -> row).thenCompose(row -> {
            if (ats.isEmpty()) {
                return CompletableFuture.completedFuture(null); // forgiven meanwhile
            }
            Instant until = policy.listedUntil(ats);
            Instant existing = row == null ? null : row.getInstant("expires_at");
            int count = row == null || row.isNull("hit_count") ? -1 : row.getInt("hit_count");
            boolean longer = existing == null || existing.isBefore(until);
            if (!longer && (count == ats.size() || !"trap".equals(row.getString("reason")))) {
                return CompletableFuture.completedFuture(null);
            }
            Instant expires = longer ? until : existing;
            int ttl = Statements.ttlSeconds(clock.instant(), expires);
            if (ttl <= 0) {
                return CompletableFuture.completedFuture(null);
            }
            Row h = newest[0];
            Offender o = new Offender(key, java.util.Collections.min(ats), java.util.Collections.max(ats), ats.size(), h.getString("trap"),
                h.getString("helo"), h.getString("mail_from"), h.getString("node"), expires);
            LOGGER.info("Offender {} recounted after a concurrent first hit elsewhere: {} hit(s), listed until {}", key, ats.size(), expires);
            if (!longer) {
                return p.session.executeAsync(p.write(Listings.listingRow(p, o, "trap", null, ttl, false))).thenApply(x -> (Void) null);
            }
            return listings.write(p, o, "trap", null);
        });
    }

    /** Derives each key's listing from every remembered hit (those just written included) and writes those that changed. */
    private CompletableFuture<Map<String, Offender>> listAll(Statements p, List<String> keys, Map<String, List<TrapHit>> written) {
        if (keys.isEmpty()) {
            return CompletableFuture.completedFuture(Map.of());
        }
        Map<String, List<Instant>> times = new HashMap<>(keys.size() * 2);
        Map<String, Row> rows = new HashMap<>(keys.size() * 2);
        CompletableFuture<Void> readTimes = p.session.executeAsync(p.read(p.readHitTimesIn.bind(keys))).thenCompose(rs -> Paging.eachRow(rs, row -> {
            Instant at = row.getInstant("at");
            if (at != null) {
                times.computeIfAbsent(row.getString("ip"), k -> new ArrayList<>()).add(at);
            }
        })).toCompletableFuture();
        List<String> listedKeys = new ArrayList<>();
        Predicate<String> hint = maybeListed;
        for (String key : keys) {
            if (hint.test(key)) {
                listedKeys.add(key);
            }
        }
        CompletableFuture<Void> readRows = listedKeys.isEmpty() ? CompletableFuture.completedFuture(null)
            : p.session.executeAsync(p.read(p.readOffendersIn.bind(listedKeys)))
                .thenCompose(rs -> Paging.eachRow(rs, row -> rows.put(row.getString("ip"), row))).toCompletableFuture();
        return readTimes.thenCombine(readRows, (a, b) -> null).thenCompose(x -> {
            Map<String, Offender> out = new HashMap<>(keys.size() * 2);
            List<CompletableFuture<?>> writes = new ArrayList<>();
            List<BoundStatement> changes = new ArrayList<>();
            for (String key : keys) {
                List<Instant> ats = times.computeIfAbsent(key, k -> new ArrayList<>());
                TrapHit newest = addTimes(ats, written.get(key));
                Row row = rows.get(key);
                Instant until = policy.listedUntil(ats);
                Instant existing = row == null ? null : row.getInstant("expires_at");
                if (existing != null && !existing.isBefore(until)) {
                    // Still listed at least that long (hits while listed do not escalate): nothing to write.
                    out.put(key, rowReader.apply(row, existing));
                    continue;
                }
                Offender o = trapListing(key, ats, newest, until);
                out.put(key, o);
                int ttl = Statements.ttlSeconds(clock.instant(), until);
                if (ttl > 0) {
                    // a replaced manual listing's cause is cleared
                    writes.add(p.session.executeAsync(p.write(Listings.listingRow(p, o, "trap", null, ttl, row != null && !row.isNull("cause"))))
                        .toCompletableFuture());
                    changes.add(listings.listed(p, o));
                }
            }
            writes.addAll(listings.announceAll(p, changes));
            return CompletableFuture.allOf(writes.toArray(new CompletableFuture[0])).thenApply(y -> out);
        });
    }
}
