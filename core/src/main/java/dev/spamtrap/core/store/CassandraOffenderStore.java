package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.net.IpAddresses;
import dev.spamtrap.core.net.AddressBits;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.offender.TrapHit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import com.datastax.oss.driver.api.core.cql.Statement;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The offender store on Cassandra (java-driver-core 4.19). {@link #connect()} blocks and is only called
 * from a spamtrap background thread or at start; every other call is asynchronous and fails fast while
 * the store is not connected, so a down Cassandra never holds an SMTP thread.
 *
 * <p>A hit is a row of {@code hits} keyed by (offender key, time, hit id): writing it twice is writing it
 * once. The listing ({@code offenders} row, TTL'd) is derived from every remembered hit of the key
 * ({@link OffenderPolicy#listedUntil}) after the hit is written at the write consistency level and read
 * back at the read level, so replays count once and concurrent nodes all count. A listing that changes is
 * announced on the {@code changes} feed (time-bucketed by minute) that every node tails.
 */
public final class CassandraOffenderStore implements OffenderStore {
    private static final Logger LOGGER = LoggerFactory.getLogger(CassandraOffenderStore.class);
    static final int PAGE_SIZE = 5000;
    /** Change-feed rows per batch: one partition, well under Cassandra's 5 KB batch warning. */
    static final int CHANGES_PER_BATCH = 25;
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

    private final CassandraSettings settings;
    private final OffenderPolicy policy;
    private final Clock clock;
    private final RowProblems problems = new RowProblems();
    private volatile PrefixEscalation escalation = PrefixEscalation.OFF;
    private volatile Predicate<CidrRange> allowlisted = r -> false;
    private volatile String nodeName = "admin";
    private volatile Predicate<String> maybeListed = key -> true;
    private volatile ClientHistory history;
    private volatile Prepared prepared;

    final class Prepared {
        final CqlSession session;
        final String ks;
        final PreparedStatement insertHit;
        final PreparedStatement readHitTimesIn;
        final PreparedStatement readOffendersIn;
        final PreparedStatement readHits;
        final PreparedStatement readHitKeys;
        final PreparedStatement readOffender;
        final PreparedStatement writeOffender;
        final PreparedStatement readOffenders;
        final PreparedStatement deleteOffender;
        final PreparedStatement deleteHits;
        final PreparedStatement writeChange;
        final PreparedStatement readChanges;
        final PreparedStatement insertPrefixHit;
        final PreparedStatement readPrefixHits;
        final PreparedStatement readTraps;
        final PreparedStatement readAllowlist;

        Prepared(CqlSession s, String ks) {
            this.session = s;
            this.ks = ks;
            insertHit = s.prepare("INSERT INTO " + ks + ".hits (ip, at, id, client, trap, helo, mail_from, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?");
            readHitTimesIn = s.prepare("SELECT ip, at FROM " + ks + ".hits WHERE ip IN ?");
            readOffendersIn = s.prepare("SELECT ip, expires_at, reason, first_hit, last_hit, hit_count, trap, helo, mail_from, node, cause FROM "
                + ks + ".offenders WHERE ip IN ?");
            readHits = s.prepare("SELECT at, id, client, trap, helo, mail_from, node FROM " + ks + ".hits WHERE ip = ?");
            readHitKeys = s.prepare("SELECT DISTINCT ip FROM " + ks + ".hits");
            readOffender = s.prepare("SELECT ip, expires_at, reason, first_hit, last_hit, hit_count, trap, helo, mail_from, node, cause FROM "
                + ks + ".offenders WHERE ip = ?");
            writeOffender = s.prepare("INSERT INTO " + ks + ".offenders (ip, expires_at, reason, first_hit, last_hit, hit_count, trap, helo, mail_from, node, cause)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?");
            readOffenders = s.prepare("SELECT ip, expires_at, reason, first_hit, last_hit, hit_count, trap, helo, mail_from, node, cause FROM " + ks + ".offenders");
            deleteOffender = s.prepare("DELETE FROM " + ks + ".offenders WHERE ip = ?");
            deleteHits = s.prepare("DELETE FROM " + ks + ".hits WHERE ip = ?");
            writeChange = s.prepare("INSERT INTO " + ks + ".changes (bucket, id, kind, key, expires_at, node) VALUES (?, ?, ?, ?, ?, ?)");
            readChanges = s.prepare("SELECT id, kind, key, expires_at, node FROM " + ks + ".changes WHERE bucket = ? AND id >= ?");
            insertPrefixHit = s.prepare("INSERT INTO " + ks + ".prefix_hits (prefix, at, id, client) VALUES (?, ?, ?, ?) USING TTL ?");
            readPrefixHits = s.prepare("SELECT id, client FROM " + ks + ".prefix_hits WHERE prefix = ? AND at >= ?");
            readTraps = s.prepare("SELECT entry, comment, added_at FROM " + ks + ".traps");
            readAllowlist = s.prepare("SELECT cidr, comment, added_at FROM " + ks + ".allowlist");
        }

        BoundStatement write(BoundStatement b) {
            return b.setConsistencyLevel(writeLevel);
        }

        BoundStatement read(BoundStatement b) {
            return b.setConsistencyLevel(readLevel).setPageSize(PAGE_SIZE);
        }
    }

    private final ConsistencyLevel writeLevel;
    private final ConsistencyLevel readLevel;

    public CassandraOffenderStore(CassandraSettings settings, OffenderPolicy policy, Clock clock) {
        this.settings = settings;
        this.policy = policy;
        this.clock = clock;
        this.writeLevel = DefaultConsistencyLevel.valueOf(settings.writeConsistency());
        this.readLevel = DefaultConsistencyLevel.valueOf(settings.readConsistency());
    }

    /** Prefix escalation rule and the allowlist test it must respect; set before recording. */
    public void escalation(PrefixEscalation rule, Predicate<CidrRange> coversAllowlisted) {
        this.escalation = rule;
        this.allowlisted = coversAllowlisted;
    }

    /**
     * What this node's view knows of current listings, to spare a read per new client: a key the view does not
     * list has no listing row worth comparing, and its trap listing is written at once. The view lags the store by
     * at most a sync interval, so a listing made by hand on another node within that second may be replaced by the
     * trap listing (docs/store.md). Without a hint every listing is read first.
     */
    public void listingHint(Predicate<String> maybeListed) {
        this.maybeListed = maybeListed;
    }

    /** What this node knows of clients' history: clients it knows nothing of are recorded without a read. */
    public void clientHistory(ClientHistory history) {
        history.recountWith(key -> recount(key).whenComplete((x, e) -> {
            if (e != null) {
                LOGGER.warn("Recount of {} failed ({}); its hits are all stored, its listing may count fewer", key, e.toString());
            }
        }));
        this.history = history;
    }

    /** The node name written with changes this store makes (default "admin"). */
    public void nodeName(String name) {
        this.nodeName = name;
    }

    public boolean isConnected() {
        return prepared != null;
    }

    public CassandraSettings settings() {
        return settings;
    }

    /**
     * Connects, creates what is missing of the schema (once; never re-run when all is there), checks the
     * keyspace's replication and prepares statements. Blocking: never call from an SMTP thread.
     *
     * @throws RuntimeException when Cassandra cannot be reached; the caller retries later
     */
    public synchronized void connect() {
        if (prepared != null) {
            return;
        }
        DriverConfigLoader config = DriverConfigLoader.programmaticBuilder()
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, settings.requestTimeout())
            .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, settings.requestTimeout())
            .withDuration(DefaultDriverOption.CONTROL_CONNECTION_TIMEOUT, settings.requestTimeout())
            .withDuration(DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, Duration.ofSeconds(30))
            .withBoolean(DefaultDriverOption.RECONNECT_ON_INIT, false)
            .withInt(DefaultDriverOption.CONNECTION_MAX_REQUESTS, 2048)
            // each connection is served by one driver I/O thread, which also runs the recording path's continuations:
            // with one connection per node, one thread capped the hits per second (measured: about 1,500/s)
            .withInt(DefaultDriverOption.CONNECTION_POOL_LOCAL_SIZE, 4)
            .build();
        CqlSessionBuilder builder = CqlSession.builder()
            .withConfigLoader(config)
            .addContactPoints(settings.contactPoints())
            .withLocalDatacenter(settings.localDatacenter())
            .withClassLoader(CassandraOffenderStore.class.getClassLoader());
        if (settings.username().isPresent()) {
            builder = builder.withAuthCredentials(settings.username().get(), settings.password().orElse(""));
        }
        CqlSession session = builder.build();
        try {
            ensureSchema(session);
            prepared = new Prepared(session, Schema.quote(settings.keyspace()));
            LOGGER.info("Spamtrap store connected to Cassandra {} keyspace '{}' (writes {}, reads {})", settings.contactPoints(),
                settings.keyspace(), writeLevel, readLevel);
        } catch (RuntimeException e) {
            session.close();
            throw e;
        }
    }

    private void ensureSchema(CqlSession session) {
        String ks = settings.keyspace();
        Row keyspace = session.execute(SimpleStatement.newInstance(
            "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", ks)).one();
        if (keyspace == null) {
            ddl(session, Schema.keyspace(ks, settings.replication()));
        } else {
            checkReplication(keyspace.getMap("replication", String.class, String.class));
        }
        Set<String> present = new HashSet<>();
        for (Row r : session.execute(SimpleStatement.newInstance(
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", ks))) {
            present.add(r.getString("table_name"));
        }
        for (Map.Entry<String, String> t : Schema.tables(ks).entrySet()) {
            if (!present.contains(t.getKey())) {
                ddl(session, t.getValue());
            }
        }
    }

    private static void ddl(CqlSession session, String cql) {
        LOGGER.info("Spamtrap schema: {}", cql);
        session.execute(SimpleStatement.newInstance(cql).setTimeout(Duration.ofSeconds(30)));
    }

    private void checkReplication(Map<String, String> replication) {
        String cls = replication.getOrDefault("class", "");
        if (!cls.endsWith("NetworkTopologyStrategy")) {
            LOGGER.warn("Keyspace '{}' uses {} (not NetworkTopologyStrategy); alter it: {}", settings.keyspace(), cls,
                Schema.keyspace(settings.keyspace(), settings.replication()).replace("CREATE KEYSPACE IF NOT EXISTS", "ALTER KEYSPACE"));
            return;
        }
        for (Map.Entry<String, Integer> dc : settings.replication().entrySet()) {
            String actual = replication.get(dc.getKey());
            if (actual == null || !actual.equals(Integer.toString(dc.getValue()))) {
                LOGGER.warn("Keyspace '{}' has replication {} in datacenter '{}', configured {}; not changed", settings.keyspace(),
                    actual, dc.getKey(), dc.getValue());
            }
        }
    }

    Prepared prepared() {
        Prepared p = prepared;
        if (p == null) {
            throw new IllegalStateException("Cassandra store is not connected");
        }
        return p;
    }

    private CompletionStage<Prepared> ready() {
        Prepared p = prepared;
        if (p == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("Cassandra store is not connected"));
        }
        return CompletableFuture.completedFuture(p);
    }

    // ---- hits ----

    @Override
    public CompletionStage<Offender> record(TrapHit hit) {
        return recordAll(List.of(hit)).thenApply(all -> all.get(0));
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
    @Override
    public CompletionStage<List<Offender>> recordAll(List<TrapHit> hits) {
        return ready().thenCompose(p -> {
            Instant now = clock.instant();
            Map<String, List<TrapHit>> byKey = new LinkedHashMap<>();
            for (TrapHit hit : hits) {
                if (ttlSeconds(now, hit.at().plus(policy.historyLifetime())) <= 0) {
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
                    List<TrapHit> part = same.subList(i, Math.min(same.size(), i + FRESH_MAX_HITS));
                    Statement<?> st;
                    if (part.size() == 1) {
                        st = p.write(insertHit(p, part.get(0), now));
                    } else {
                        BatchableStatement<?>[] rows = new BatchableStatement[part.size()];
                        for (int j = 0; j < rows.length; j++) {
                            rows[j] = insertHit(p, part.get(j), now);
                        }
                        st = BatchStatement.newInstance(DefaultBatchType.UNLOGGED, rows).setConsistencyLevel(writeLevel);
                    }
                    written.add(p.session.executeAsync(st).toCompletableFuture());
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
            if (escalation.enabled()) {
                for (List<TrapHit> same : byKey.values()) {
                    for (TrapHit hit : same) {
                        done = done.thenCompose(m -> escalate(p, hit).thenApply(y -> m));
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
        });
    }

    private BoundStatement insertHit(Prepared p, TrapHit hit, Instant now) {
        int historyTtl = ttlSeconds(now, hit.at().plus(policy.historyLifetime()));
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
     * The {@code offenders} row of a listing. A null {@code cause} is left unset (a bound null writes a tombstone)
     * unless {@code clearCause}: the row being replaced holds one.
     */
    private static BoundStatement listingRow(Prepared p, Offender o, String reason, String cause, int ttl, boolean clearCause) {
        BoundStatement row = p.writeOffender.bind(o.ip(), o.expiresAt(), reason, o.firstHit(), o.lastHit(), o.hitCount(), o.trap(),
            o.helo(), o.mailFrom(), o.node(), cause, ttl);
        return cause == null && !clearCause ? row.unset("cause") : row;
    }

    /** The feed entry announcing a listing (by its hit's node, else this one). */
    private BoundStatement listed(Prepared p, Offender o) {
        return change(p, Change.LISTED, o.ip(), o.expiresAt(), o.node() == null ? nodeName : o.node());
    }

    /**
     * Clients with no history known here: the listing follows from this group's hits alone, so each client's hit rows
     * and offender row are one request; the feed entries follow once the rows are there (a node that reads the feed
     * and recounts must find the hits).
     */
    private CompletableFuture<Map<String, Offender>> writeFresh(Prepared p, List<String> keys, Map<String, List<TrapHit>> byKey,
                                                                ClientHistory history, Instant now) {
        Map<String, Offender> out = new HashMap<>(keys.size() * 2);
        Map<String, Instant> listedUntil = new HashMap<>(keys.size() * 2);
        List<BoundStatement> changes = new ArrayList<>();
        ReplicaBatches<String> batches = ReplicaBatches.of(p.session, p.ks, FRESH_PER_BATCH, FRESH_ROWS_PER_BATCH);
        for (String key : keys) {
            List<TrapHit> same = byKey.get(key);
            List<BatchableStatement<?>> rows = new ArrayList<>(same.size() + 1);
            for (TrapHit h : same) {
                rows.add(insertHit(p, h, now));
            }
            List<Instant> ats = new ArrayList<>(same.size());
            TrapHit newest = addTimes(ats, same);
            Instant until = policy.listedUntil(ats);
            Offender o = trapListing(key, ats, newest, until);
            out.put(key, o);
            int ttl = ttlSeconds(now, until);
            if (ttl > 0) {
                rows.add(listingRow(p, o, "trap", null, ttl, false));
                changes.add(listed(p, o));
                listedUntil.put(key, until);
            }
            batches.add(key, ((BoundStatement) rows.get(0)).getRoutingKey(), rows);
        }
        List<CompletableFuture<?>> writes = new ArrayList<>();
        for (ReplicaBatches.Batch<String> batch : batches.batches()) {
            writes.add(p.session.executeAsync(batch.statement().setConsistencyLevel(writeLevel)).toCompletableFuture().whenComplete((rs, e) -> {
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
            .thenCompose(x -> CompletableFuture.allOf(announceAll(p, changes).toArray(new CompletableFuture[0])))
            .thenApply(x -> out);
    }

    /**
     * Derives {@code key}'s listing again from every stored hit and rewrites it if the stored listing is shorter or counts
     * fewer hits: after another node listed a client this node had recorded as fresh at the same time.
     */
    public CompletionStage<Void> recount(String key) {
        return ready().thenCompose(p -> {
            List<Instant> ats = new ArrayList<>();
            Row[] newest = new Row[1];
            CompletableFuture<Void> hitsRead = p.session.executeAsync(p.read(p.readHits.bind(key))).thenCompose(rs -> eachRow(rs, row -> {
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
                int ttl = ttlSeconds(clock.instant(), expires);
                if (ttl <= 0) {
                    return CompletableFuture.completedFuture(null);
                }
                Row h = newest[0];
                Offender o = new Offender(key, java.util.Collections.min(ats), java.util.Collections.max(ats), ats.size(), h.getString("trap"),
                    h.getString("helo"), h.getString("mail_from"), h.getString("node"), expires);
                LOGGER.info("Offender {} recounted after a concurrent first hit elsewhere: {} hit(s), listed until {}", key, ats.size(), expires);
                if (!longer) {
                    return p.session.executeAsync(p.write(listingRow(p, o, "trap", null, ttl, false))).thenApply(x -> (Void) null);
                }
                return writeListing(p, o, "trap", null);
            });
        });
    }

    /**
     * Every client key with hits in the store (a paged scan of the hit table's partition keys), for {@link ClientHistory}
     * after start. Completes with the number of keys read.
     */
    @Override
    public CompletionStage<Long> forEachClientWithHits(java.util.function.Consumer<String> visitor) {
        java.util.concurrent.atomic.AtomicLong n = new java.util.concurrent.atomic.AtomicLong();
        return ready().thenCompose(p -> p.session.executeAsync(p.read(p.readHitKeys.bind())))
            .thenCompose(rs -> eachRow(rs, row -> {
                String key = row.getString("ip");
                n.incrementAndGet();
                if (key != null && !key.isEmpty()) {
                    visitor.accept(key);
                }
            }))
            .thenApply(x -> n.get());
    }

    /** Derives each key's listing from every remembered hit (those just written included) and writes those that changed. */
    private CompletableFuture<Map<String, Offender>> listAll(Prepared p, List<String> keys, Map<String, List<TrapHit>> written) {
        if (keys.isEmpty()) {
            return CompletableFuture.completedFuture(Map.of());
        }
        Map<String, List<Instant>> times = new HashMap<>(keys.size() * 2);
        Map<String, Row> rows = new HashMap<>(keys.size() * 2);
        CompletableFuture<Void> readTimes = p.session.executeAsync(p.read(p.readHitTimesIn.bind(keys))).thenCompose(rs -> eachRow(rs, row -> {
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
                .thenCompose(rs -> eachRow(rs, row -> rows.put(row.getString("ip"), row))).toCompletableFuture();
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
                    out.put(key, toOffender(row, existing));
                    continue;
                }
                Offender o = trapListing(key, ats, newest, until);
                out.put(key, o);
                int ttl = ttlSeconds(clock.instant(), until);
                if (ttl > 0) {
                    // a replaced manual listing's cause is cleared
                    writes.add(p.session.executeAsync(p.write(listingRow(p, o, "trap", null, ttl, row != null && !row.isNull("cause"))))
                        .toCompletableFuture());
                    changes.add(listed(p, o));
                }
            }
            writes.addAll(announceAll(p, changes));
            return CompletableFuture.allOf(writes.toArray(new CompletableFuture[0])).thenApply(y -> out);
        });
    }

    /** Change-feed entries in single-partition batches (one per minute bucket, a few dozen rows each): one request per batch. */
    private List<CompletableFuture<?>> announceAll(Prepared p, List<BoundStatement> changes) {
        Map<Long, List<BoundStatement>> byBucket = new LinkedHashMap<>();
        for (BoundStatement c : changes) {
            byBucket.computeIfAbsent(c.getLong(0), k -> new ArrayList<>()).add(c);
        }
        List<CompletableFuture<?>> out = new ArrayList<>();
        for (List<BoundStatement> same : byBucket.values()) {
            for (int i = 0; i < same.size(); i += CHANGES_PER_BATCH) {
                List<BoundStatement> part = same.subList(i, Math.min(same.size(), i + CHANGES_PER_BATCH));
                Statement<?> st = part.size() == 1 ? p.write(part.get(0))
                    : BatchStatement.newInstance(DefaultBatchType.UNLOGGED, part.toArray(new BoundStatement[0])).setConsistencyLevel(writeLevel);
                out.add(p.session.executeAsync(st).toCompletableFuture());
            }
        }
        return out;
    }

    private CompletionStage<Void> writeListing(Prepared p, Offender o, String reason, String cause) {
        int ttl = ttlSeconds(clock.instant(), o.expiresAt());
        if (ttl <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        // The row and its feed entry in one request (unlogged: a replay rewrites both idempotently anyway).
        BatchStatement both = BatchStatement.newInstance(DefaultBatchType.UNLOGGED, listingRow(p, o, reason, cause, ttl, false), listed(p, o))
            .setConsistencyLevel(writeLevel);
        return p.session.executeAsync(both).thenApply(x -> null);
    }

    private BoundStatement change(Prepared p, String kind, String key, Instant expiresAt, String node) {
        UUID id = Uuids.timeBased();
        long bucket = Uuids.unixTimestamp(id) / 60_000L;
        return p.writeChange.bind(bucket, id, kind, key == null ? "" : key, expiresAt, node);
    }

    CompletionStage<Void> announce(Prepared p, String kind, String key, Instant expiresAt, String node) {
        return p.session.executeAsync(p.write(change(p, kind, key, expiresAt, node))).thenApply(x -> null);
    }

    private CompletionStage<Void> escalate(Prepared p, TrapHit hit) {
        CidrRange prefix = prefixOf(hit.client());
        if (prefix == null) {
            return CompletableFuture.completedFuture(null);
        }
        String key = prefix.toString();
        Instant now = clock.instant();
        Instant from = now.minus(escalation.window());
        int ttl = ttlSeconds(now, hit.at().plus(escalation.window()));
        if (ttl <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        return p.session.executeAsync(p.write(p.insertPrefixHit.bind(key, hit.at(), hit.id(), hit.client(), ttl)))
            .thenCompose(x -> collect(p.session.executeAsync(p.read(p.readPrefixHits.bind(key, from))),
                row -> new String[] {row.getString("id"), row.getString("client")}))
            .thenCompose(rows -> {
                Set<String> clients = new HashSet<>();
                List<String> ids = new ArrayList<>();
                for (String[] r : rows) {
                    if (r[1] != null && clients.add(r[1])) {
                        ids.add(r[0]);
                    }
                }
                if (clients.size() < escalation.addresses()) {
                    return CompletableFuture.completedFuture(null);
                }
                if (allowlisted.test(prefix)) {
                    LOGGER.warn("Prefix {} reached {} trapping addresses but overlaps the allowlist: not listed", key, clients.size());
                    return CompletableFuture.completedFuture(null);
                }
                Offender o = new Offender(key, now, now, clients.size(), hit.trap(), "", "", hit.node(), now.plus(policy.lifetime()));
                return p.session.executeAsync(p.read(p.readOffender.bind(key))).thenCompose(rs -> {
                    Row existing = rs.one();
                    if (existing != null && existing.getInstant("expires_at") != null && existing.getInstant("expires_at").isAfter(now)) {
                        return CompletableFuture.completedFuture(null);
                    }
                    LOGGER.warn("Prefix {} listed: {} distinct addresses hit traps within {} (hits {})", key, clients.size(),
                        escalation.window(), ids);
                    return writeListing(p, o, "prefix-escalation", String.join(",", ids));
                });
            });
    }

    private CidrRange prefixOf(String client) {
        try {
            byte[] raw = CidrRange.literal(client).orElse(null);
            if (raw == null) {
                return null;
            }
            int length = raw.length == 4 ? escalation.v4Length() : escalation.v6Length();
            return CidrRange.parse(IpAddresses.canonical(InetAddress.getByAddress(AddressBits.mask(raw, length))) + "/" + length);
        } catch (UnknownHostException | IllegalArgumentException e) {
            return null;
        }
    }

    private static int ttlSeconds(Instant now, Instant until) {
        long millis = Duration.between(now, until).toMillis();
        if (millis <= 0) {
            return 0;
        }
        return (int) Math.min(630_720_000L, (millis + 999) / 1000);
    }

    // ---- offenders ----

    @Override
    public CompletionStage<List<Offender>> loadActive() {
        Instant now = clock.instant();
        List<Offender> out = new ArrayList<>();
        return ready().thenCompose(p -> p.session.executeAsync(p.read(p.readOffenders.bind())))
            .thenCompose(rs -> eachRow(rs, row -> {
                Offender o = offenderOrNull(row);
                if (o != null && o.isActiveAt(now)) {
                    out.add(o);
                }
            }))
            .thenApply(x -> out);
    }

    @Override
    public CompletionStage<Long> forEachActive(java.util.function.Consumer<Offender> visitor) {
        Instant now = clock.instant();
        java.util.concurrent.atomic.AtomicLong rows = new java.util.concurrent.atomic.AtomicLong();
        return ready().thenCompose(p -> p.session.executeAsync(p.read(p.readOffenders.bind())))
            .thenCompose(rs -> eachRow(rs, row -> {
                rows.incrementAndGet();
                Offender o = offenderOrNull(row);
                if (o != null && o.isActiveAt(now)) {
                    visitor.accept(o);
                }
            }))
            .thenApply(x -> rows.get());
    }

    /** Visits every offender row (page by page); malformed rows are skipped and logged once. */
    /** Visits every well-formed offender row with its reason ({@code trap}, {@code prefix-escalation}, {@code manual} or the one given). */
    public CompletionStage<Void> forEachOffender(java.util.function.BiConsumer<Offender, String> visitor) {
        return ready().thenCompose(p -> p.session.executeAsync(p.read(p.readOffenders.bind())))
            .thenCompose(rs -> eachRow(rs, row -> {
                Offender o = offenderOrNull(row);
                if (o != null) {
                    visitor.accept(o, row.getString("reason"));
                }
            }));
    }

    /**
     * Visits one page of offender rows (at most {@code size}) from the driver's paging state {@code from} (null: the
     * start), well-formed rows only. Completes with the paging state that continues, or null at the end.
     */
    public CompletionStage<java.nio.ByteBuffer> offenderPage(java.nio.ByteBuffer from, int size,
                                                             java.util.function.BiConsumer<Offender, String> visitor) {
        return ready().thenCompose(p -> {
            BoundStatement st = p.read(p.readOffenders.bind()).setPageSize(size);
            if (from != null) {
                st = st.setPagingState(from);
            }
            return p.session.executeAsync(st);
        }).thenApply(rs -> {
            for (Row row : rs.currentPage()) {
                Offender o = offenderOrNull(row);
                if (o != null) {
                    visitor.accept(o, row.getString("reason"));
                }
            }
            return rs.hasMorePages() ? rs.getExecutionInfo().getPagingState() : null;
        });
    }

    /** The row as an Offender, or null (logged once) if it lacks its key or expiry. */
    Offender offenderOrNull(Row row) {
        String ip = row.getString("ip");
        Instant expires = row.getInstant("expires_at");
        if (ip == null || ip.isBlank()) {
            problems.skip(Schema.OFFENDERS, "(no key)", "no ip");
            return null;
        }
        if (expires == null) {
            problems.skip(Schema.OFFENDERS, ip, "no expires_at (insert rows with expires_at and a TTL)");
            return null;
        }
        try {
            CidrRange.parse(ip);
        } catch (IllegalArgumentException e) {
            problems.skip(Schema.OFFENDERS, ip, e.getMessage());
            return null;
        }
        Integer count = row.isNull("hit_count") ? 0 : row.getInt("hit_count");
        return new Offender(ip, row.getInstant("first_hit"), row.getInstant("last_hit"), count, row.getString("trap"),
            row.getString("helo"), row.getString("mail_from"), row.getString("node"), expires);
    }

    private Offender toOffender(Row row, Instant expires) {
        Offender o = offenderOrNull(row);
        return o != null ? o : new Offender(row.getString("ip"), null, null, 0, null, null, null, null, expires);
    }

    @Override
    public CompletionStage<Void> remove(String ip) {
        return ready().thenCompose(p -> p.session.executeAsync(p.write(p.deleteOffender.bind(ip)))
            .thenCompose(x -> p.session.executeAsync(p.write(p.deleteHits.bind(ip))))
            .thenCompose(x -> announce(p, Change.REMOVED, ip, null, nodeName)));
    }

    /** Writes a listing by hand (reason {@code manual}) and announces it. */
    public CompletionStage<Offender> listByHand(String key, Instant until, String reason) {
        Instant now = clock.instant();
        Offender o = new Offender(key, now, now, 0, "", "", "", nodeName, until);
        return ready().thenCompose(p -> {
            int ttl = ttlSeconds(now, until);
            return p.session.executeAsync(p.write(p.writeOffender.bind(key, until, "manual", now, now, 0, "", "", "", nodeName, reason, ttl)))
                .thenCompose(x -> announce(p, Change.LISTED, key, until, nodeName));
        }).thenApply(x -> o);
    }

    /** One offender row, if present and well-formed. */
    public CompletionStage<java.util.Optional<Row>> offenderRow(String key) {
        return ready().thenCompose(p -> p.session.executeAsync(p.read(p.readOffender.bind(key))))
            .thenApply(rs -> java.util.Optional.ofNullable(rs.one()));
    }

    /** Every remembered hit of a key (time, id, client, trap, helo, mail_from, node). */
    public CompletionStage<List<Row>> hitRows(String key) {
        return ready().thenCompose(p -> collect(p.session.executeAsync(p.read(p.readHits.bind(key))), r -> r));
    }

    // ---- change feed ----

    @Override
    public CompletionStage<List<Change>> changesSince(Instant from) {
        long first = from.toEpochMilli() / 60_000L;
        long last = clock.millis() / 60_000L + 1;
        UUID start = Uuids.startOf(from.toEpochMilli());
        return ready().thenCompose(p -> {
            List<Change> out = new ArrayList<>();
            CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
            for (long b = first; b <= last; b++) {
                long bucket = b;
                chain = chain.thenCompose(x -> p.session.executeAsync(p.read(p.readChanges.bind(bucket, start)))
                    .thenCompose(rs -> eachRow(rs, row -> {
                        UUID id = row.getUuid("id");
                        String kind = row.getString("kind");
                        if (id == null || kind == null) {
                            problems.skip(Schema.CHANGES, bucket + "/" + id, "no id or kind");
                            return;
                        }
                        if ((Change.LISTED.equals(kind) || Change.REMOVED.equals(kind)) && (row.getString("key") == null || row.getString("key").isEmpty())) {
                            problems.skip(Schema.CHANGES, bucket + "/" + id, "no key");
                            return;
                        }
                        if (Change.LISTED.equals(kind) && row.getInstant("expires_at") == null) {
                            problems.skip(Schema.CHANGES, bucket + "/" + id, "no expires_at");
                            return;
                        }
                        out.add(new Change(id, kind, row.getString("key"), row.getInstant("expires_at"), row.getString("node")));
                    })));
            }
            return chain.thenApply(x -> out);
        });
    }

    // ---- traps and allowlist ----

    @Override
    public CompletionStage<List<String>> loadTrapEntries() {
        return ready().thenCompose(p -> collect(p.session.executeAsync(p.read(p.readTraps.bind())), row -> row.getString("entry")))
            .thenApply(l -> { l.removeIf(java.util.Objects::isNull); return l; });
    }

    @Override
    public CompletionStage<List<String>> loadAllowlistEntries() {
        return ready().thenCompose(p -> collect(p.session.executeAsync(p.read(p.readAllowlist.bind())), row -> row.getString("cidr")))
            .thenApply(l -> { l.removeIf(java.util.Objects::isNull); return l; });
    }

    /** Trap table rows: entry, comment, added_at. */
    public CompletionStage<List<Row>> trapRows() {
        return ready().thenCompose(p -> collect(p.session.executeAsync(p.read(p.readTraps.bind())), r -> r));
    }

    /** Allowlist table rows: cidr, comment, added_at. */
    public CompletionStage<List<Row>> allowlistRows() {
        return ready().thenCompose(p -> collect(p.session.executeAsync(p.read(p.readAllowlist.bind())), r -> r));
    }

    /** Runs an administrator's write on a small table (traps, allowlist) and announces the change. */
    public CompletionStage<Void> tableWrite(String cql, String changeKind, Object... values) {
        return ready().thenCompose(p -> p.session.executeAsync(SimpleStatement.newInstance(cql.replace("%ks", p.ks), values)
                .setConsistencyLevel(writeLevel))
            .thenCompose(x -> announce(p, changeKind, "", null, nodeName)));
    }

    /** Runs a read on a small table ({@code %ks} is the keyspace). */
    public CompletionStage<List<Row>> tableRead(String cql, Object... values) {
        return ready().thenCompose(p -> collect(p.session.executeAsync(SimpleStatement.newInstance(cql.replace("%ks", p.ks), values)
            .setConsistencyLevel(readLevel)), r -> r));
    }

    private static <T> CompletionStage<List<T>> collect(CompletionStage<AsyncResultSet> rs, Function<Row, T> mapper) {
        List<T> out = new ArrayList<>();
        return rs.thenCompose(r -> eachRow(r, row -> out.add(mapper.apply(row)))).thenApply(x -> out);
    }

    private static CompletionStage<Void> eachRow(AsyncResultSet rs, java.util.function.Consumer<Row> visitor) {
        for (Row row : rs.currentPage()) {
            try {
                visitor.accept(row);
            } catch (RuntimeException e) {
                LOGGER.error("Cassandra row skipped: {}", e.toString());
            }
        }
        if (rs.hasMorePages()) {
            return rs.fetchNextPage().thenCompose(next -> eachRow(next, visitor));
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public synchronized void close() {
        Prepared p = prepared;
        prepared = null;
        if (p != null) {
            p.session.close();
        }
    }
}
