package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.offender.TrapHit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * The offender store on Cassandra (java-driver-core 4.19). {@link #connect()} blocks and is only called
 * from a spamtrap background thread or at start; every other call is asynchronous and fails fast while
 * the store is not connected, so a down Cassandra never holds an SMTP thread.
 *
 * <p>This class connects, keeps the schema and reads; the rooms beside it do the rest: {@link HitRecording} records
 * hits and derives listings from them, {@link PrefixListing} lists prefixes on evidence, {@link Listings} writes a
 * listing and its entry on the {@code changes} feed (time-bucketed by minute) that every node tails,
 * {@link Statements} holds the prepared statements and consistency levels.
 */
public final class CassandraOffenderStore implements OffenderStore {
    private static final Logger LOGGER = LoggerFactory.getLogger(CassandraOffenderStore.class);

    private final CassandraSettings settings;
    private final Clock clock;
    private final RowProblems problems = new RowProblems();
    private final Listings listings;
    private final PrefixListing prefixes;
    private final HitRecording recording;
    private volatile String nodeName = "admin";
    private final ConsistencyLevel writeLevel;
    private final ConsistencyLevel readLevel;
    private volatile Statements prepared;

    public CassandraOffenderStore(CassandraSettings settings, OffenderPolicy policy, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.writeLevel = DefaultConsistencyLevel.valueOf(settings.writeConsistency());
        this.readLevel = DefaultConsistencyLevel.valueOf(settings.readConsistency());
        this.listings = new Listings(clock, () -> nodeName);
        this.prefixes = new PrefixListing(policy, clock, listings);
        this.recording = new HitRecording(policy, clock, listings, prefixes, this::toOffender);
    }

    /** Prefix escalation rule and the allowlist test it must respect; set before recording. */
    public void escalation(PrefixEscalation rule, Predicate<CidrRange> coversAllowlisted) {
        prefixes.rule(rule, coversAllowlisted);
    }

    /**
     * What this node's view knows of current listings, to spare a read per new client: a key the view does not
     * list has no listing row worth comparing, and its trap listing is written at once. The view lags the store by
     * at most a sync interval, so a listing made by hand on another node within that second may be replaced by the
     * trap listing (docs/store.md). Without a hint every listing is read first.
     */
    public void listingHint(Predicate<String> maybeListed) {
        recording.listingHint(maybeListed);
    }

    /** What this node knows of clients' history: clients it knows nothing of are recorded without a read. */
    public void clientHistory(ClientHistory history) {
        history.recountWith(key -> recount(key).whenComplete((x, e) -> {
            if (e != null) {
                LOGGER.warn("Recount of {} failed ({}); its hits are all stored, its listing may count fewer", key, e.toString());
            }
        }));
        recording.clientHistory(history);
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
            prepared = new Statements(session, Schema.quote(settings.keyspace()), writeLevel, readLevel);
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

    Statements prepared() {
        Statements p = prepared;
        if (p == null) {
            throw new IllegalStateException("Cassandra store is not connected");
        }
        return p;
    }

    private CompletionStage<Statements> ready() {
        Statements p = prepared;
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

    /** Records a group of hits in few requests ({@link HitRecording}). */
    @Override
    public CompletionStage<List<Offender>> recordAll(List<TrapHit> hits) {
        return ready().thenCompose(p -> recording.recordAll(p, hits));
    }

    /**
     * Derives {@code key}'s listing again from every stored hit and rewrites it if the stored listing is shorter or counts
     * fewer hits: after another node listed a client this node had recorded as fresh at the same time.
     */
    public CompletionStage<Void> recount(String key) {
        return ready().thenCompose(p -> recording.recount(p, key));
    }

    /**
     * Every client key with hits in the store (a paged scan of the hit table's partition keys), for {@link ClientHistory}
     * after start. Completes with the number of keys read.
     */
    @Override
    public CompletionStage<Long> forEachClientWithHits(java.util.function.Consumer<String> visitor) {
        java.util.concurrent.atomic.AtomicLong n = new java.util.concurrent.atomic.AtomicLong();
        return ready().thenCompose(p -> p.session.executeAsync(p.read(p.readHitKeys.bind())))
            .thenCompose(rs -> Paging.eachRow(rs, row -> {
                String key = row.getString("ip");
                n.incrementAndGet();
                if (key != null && !key.isEmpty()) {
                    visitor.accept(key);
                }
            }))
            .thenApply(x -> n.get());
    }

    // ---- offenders ----

    @Override
    public CompletionStage<List<Offender>> loadActive() {
        Instant now = clock.instant();
        List<Offender> out = new ArrayList<>();
        return ready().thenCompose(p -> p.session.executeAsync(p.read(p.readOffenders.bind())))
            .thenCompose(rs -> Paging.eachRow(rs, row -> {
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
            .thenCompose(rs -> Paging.eachRow(rs, row -> {
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
            .thenCompose(rs -> Paging.eachRow(rs, row -> {
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

    Offender toOffender(Row row, Instant expires) {
        Offender o = offenderOrNull(row);
        return o != null ? o : new Offender(row.getString("ip"), null, null, 0, null, null, null, null, expires);
    }

    @Override
    public CompletionStage<Void> remove(String ip) {
        return ready().thenCompose(p -> p.session.executeAsync(p.write(p.deleteOffender.bind(ip)))
            .thenCompose(x -> p.session.executeAsync(p.write(p.deleteHits.bind(ip))))
            .thenCompose(x -> listings.announce(p, Change.REMOVED, ip, null)));
    }

    /** Writes a listing by hand (reason {@code manual}) and announces it. */
    public CompletionStage<Offender> listByHand(String key, Instant until, String reason) {
        Instant now = clock.instant();
        Offender o = new Offender(key, now, now, 0, "", "", "", nodeName, until);
        return ready().thenCompose(p -> {
            int ttl = Statements.ttlSeconds(now, until);
            // a null reason clears a cause the replaced row held
            return p.session.executeAsync(p.write(Listings.listingRow(p, o, "manual", reason, ttl, true)))
                .thenCompose(x -> listings.announce(p, Change.LISTED, key, until));
        }).thenApply(x -> o);
    }

    /** One offender row, if present and well-formed. */
    public CompletionStage<java.util.Optional<Row>> offenderRow(String key) {
        return ready().thenCompose(p -> p.session.executeAsync(p.read(p.readOffender.bind(key))))
            .thenApply(rs -> java.util.Optional.ofNullable(rs.one()));
    }

    /** Every remembered hit of a key (time, id, client, trap, helo, mail_from, node). */
    public CompletionStage<List<Row>> hitRows(String key) {
        return ready().thenCompose(p -> Paging.collect(p.session.executeAsync(p.read(p.readHits.bind(key))), r -> r));
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
                    .thenCompose(rs -> Paging.eachRow(rs, row -> {
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
        return ready().thenCompose(p -> Paging.collect(p.session.executeAsync(p.read(p.readTraps.bind())), row -> row.getString("entry")))
            .thenApply(l -> { l.removeIf(java.util.Objects::isNull); return l; });
    }

    @Override
    public CompletionStage<List<String>> loadAllowlistEntries() {
        return ready().thenCompose(p -> Paging.collect(p.session.executeAsync(p.read(p.readAllowlist.bind())), row -> row.getString("cidr")))
            .thenApply(l -> { l.removeIf(java.util.Objects::isNull); return l; });
    }

    /** Trap table rows: entry, comment, added_at. */
    public CompletionStage<List<Row>> trapRows() {
        return ready().thenCompose(p -> Paging.collect(p.session.executeAsync(p.read(p.readTraps.bind())), r -> r));
    }

    /** Allowlist table rows: cidr, comment, added_at. */
    public CompletionStage<List<Row>> allowlistRows() {
        return ready().thenCompose(p -> Paging.collect(p.session.executeAsync(p.read(p.readAllowlist.bind())), r -> r));
    }

    /** Runs an administrator's write on a small table (traps, allowlist) and announces the change. */
    public CompletionStage<Void> tableWrite(String cql, String changeKind, Object... values) {
        return ready().thenCompose(p -> p.session.executeAsync(SimpleStatement.newInstance(cql.replace("%ks", p.ks), values)
                .setConsistencyLevel(writeLevel))
            .thenCompose(x -> listings.announce(p, changeKind, "", null)));
    }

    /** Runs a read on a small table ({@code %ks} is the keyspace). */
    public CompletionStage<List<Row>> tableRead(String cql, Object... values) {
        return ready().thenCompose(p -> Paging.collect(p.session.executeAsync(SimpleStatement.newInstance(cql.replace("%ks", p.ks), values)
            .setConsistencyLevel(readLevel)), r -> r));
    }

    @Override
    public synchronized void close() {
        Statements p = prepared;
        prepared = null;
        if (p != null) {
            p.session.close();
        }
    }
}
