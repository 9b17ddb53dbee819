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
import dev.spamtrap.core.offender.Cause;
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
 * listing and its entry on the change feed ({@link Feed}: one partition per writer, numbered rows) that every node tails,
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
    private final String nodeName;
    private final Feed feed;
    private final ConsistencyLevel writeLevel;
    private final ConsistencyLevel readLevel;
    private volatile Statements prepared;

    /** A store that writes as "admin" (administration tools, the firewall agent's reads). */
    public CassandraOffenderStore(CassandraSettings settings, OffenderPolicy policy, Clock clock) {
        this(settings, policy, clock, "admin");
    }

    /** A store whose changes are written on the feed under {@code nodeName}, without prefix escalation. */
    public CassandraOffenderStore(CassandraSettings settings, OffenderPolicy policy, Clock clock, String nodeName) {
        this(settings, policy, clock, nodeName, PrefixEscalation.OFF, range -> false);
    }

    /**
     * A store whose changes are written on the feed under {@code nodeName} (a new epoch each time it is built), listing
     * a whole prefix by {@code escalation} unless {@code coversAllowlisted} says the prefix covers an allowlisted address.
     */
    public CassandraOffenderStore(CassandraSettings settings, OffenderPolicy policy, Clock clock, String nodeName,
                                  PrefixEscalation escalation, Predicate<CidrRange> coversAllowlisted) {
        this.settings = settings;
        this.nodeName = nodeName;
        this.feed = new Feed(nodeName);
        this.clock = clock;
        this.writeLevel = DefaultConsistencyLevel.valueOf(settings.writeConsistency());
        this.readLevel = DefaultConsistencyLevel.valueOf(settings.readConsistency());
        this.listings = new Listings(clock, policy, feed);
        this.prefixes = new PrefixListing(policy, clock, listings, escalation, coversAllowlisted);
        this.recording = new HitRecording(policy, clock, listings, prefixes);
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
        String offendersComment = null;
        for (Row r : session.execute(SimpleStatement.newInstance(
            "SELECT table_name, comment FROM system_schema.tables WHERE keyspace_name = ?", ks))) {
            present.add(r.getString("table_name"));
            if (Schema.OFFENDERS.equals(r.getString("table_name"))) {
                offendersComment = r.getString("comment");
            }
        }
        if (present.contains(Schema.OFFENDERS)) {
            boolean slots = session.execute(SimpleStatement.newInstance(
                "SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ? AND column_name = 'slot'", ks,
                Schema.OFFENDERS)).one() != null;
            String refusal = null;
            if (!slots) {
                refusal = Schema.previousVersion(ks);
            } else if (!Schema.OFFENDERS_MODEL.equals(offendersComment)) {
                refusal = Schema.earlierBuild(ks);
            }
            if (refusal != null) {
                LOGGER.error(refusal);
                throw new IllegalStateException(refusal);
            }
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

    /** Records a group of hits: per offender key one read and one write ({@link HitRecording}). */
    @Override
    public CompletionStage<List<Offender>> recordAll(List<TrapHit> hits) {
        return ready().thenCompose(p -> recording.recordAll(p, hits));
    }

    // ---- offenders ----

    /** Visits every well-formed listing row (one per offender key, its evidence not read), page by page. */
    private CompletionStage<Long> eachListing(Statements p, java.util.function.Consumer<Listing> visitor) {
        java.util.concurrent.atomic.AtomicLong rows = new java.util.concurrent.atomic.AtomicLong();
        return p.session.executeAsync(p.read(p.readListings.bind())).thenCompose(rs -> Paging.eachRow(rs, row -> {
            rows.incrementAndGet();
            Listing l = listingOrNull(row);
            if (l != null) {
                visitor.accept(l);
            }
        })).thenApply(x -> rows.get());
    }

    @Override
    public CompletionStage<List<Offender>> loadActive() {
        List<Offender> out = new ArrayList<>();
        return forEachActive(out::add).thenApply(x -> out);
    }

    @Override
    public CompletionStage<Long> forEachActive(java.util.function.Consumer<Offender> visitor) {
        Instant now = clock.instant();
        return forEachListing(l -> {
            if (l.isActiveAt(now)) {
                visitor.accept(l.offender());
            }
        });
    }

    @Override
    public CompletionStage<Long> forEachListing(java.util.function.Consumer<Listing> visitor) {
        return ready().thenCompose(p -> eachListing(p, visitor));
    }

    /** Token ranges per replica's range read at once by the view's full load, and how many queries run at a time. */
    static final int VIEW_SPLITS = 4;
    static final int VIEW_LANES = 4;

    /**
     * The view's full load: the ring's token ranges (each node's split in {@link #VIEW_SPLITS}) read in {@link #VIEW_LANES}
     * parallel lanes, only the columns the view needs; one query over the whole table when the driver knows no token map.
     * Visits are serialised (one thread at a time).
     */
    @Override
    public CompletionStage<Long> forEachViewListing(java.util.function.Consumer<Listing> visitor) {
        return ready().thenCompose(p -> {
            java.util.concurrent.atomic.AtomicLong rows = new java.util.concurrent.atomic.AtomicLong();
            Object turn = new Object();
            java.util.function.Consumer<Row> each = row -> {
                rows.incrementAndGet();
                Listing l = viewListingOrNull(row);
                if (l != null) {
                    synchronized (turn) {
                        visitor.accept(l);
                    }
                }
            };
            List<BoundStatement> queries = new ArrayList<>();
            p.session.getMetadata().getTokenMap().ifPresent(tokens -> {
                for (com.datastax.oss.driver.api.core.metadata.token.TokenRange range : tokens.getTokenRanges()) {
                    for (com.datastax.oss.driver.api.core.metadata.token.TokenRange split : range.splitEvenly(VIEW_SPLITS)) {
                        for (com.datastax.oss.driver.api.core.metadata.token.TokenRange part : split.unwrap()) {
                            queries.add(p.read(p.readViewListings.bind().setToken(0, part.getStart()).setToken(1, part.getEnd())));
                        }
                    }
                }
            });
            if (queries.isEmpty()) {
                return eachListing(p, visitor);
            }
            java.util.concurrent.ConcurrentLinkedQueue<BoundStatement> todo = new java.util.concurrent.ConcurrentLinkedQueue<>(queries);
            List<CompletableFuture<Void>> lanes = new ArrayList<>();
            for (int i = 0; i < VIEW_LANES; i++) {
                lanes.add(lane(p, todo, each));
            }
            return CompletableFuture.allOf(lanes.toArray(new CompletableFuture[0])).thenApply(x -> rows.get());
        });
    }

    /** Runs the queries left in {@code todo} one after the other, each to its last page. */
    private CompletableFuture<Void> lane(Statements p, java.util.Queue<BoundStatement> todo, java.util.function.Consumer<Row> each) {
        BoundStatement next = todo.poll();
        if (next == null) {
            return CompletableFuture.completedFuture(null);
        }
        return p.session.executeAsync(next).thenCompose(rs -> Paging.eachRow(rs, each)).toCompletableFuture()
            .thenCompose(x -> lane(p, todo, each));
    }

    /** A row of {@link Statements#readViewListings} as a listing (key, end, start as lastHit, reason and its cause, generation), or null as {@link #listingOrNull}. */
    Listing viewListingOrNull(Row row) {
        String ip = listedKeyOrNull(row);
        if (ip == null) {
            return null;
        }
        Instant end = row.getInstant("expires_at");
        String reason = row.getString("reason");
        boolean forgiven = "forgiven".equals(reason);
        int offences = row.isNull("offences") ? 0 : row.getInt("offences");
        return new Listing(new Offender(ip, null, row.getInstant("last_hit"), 0, null, null, null, null, forgiven ? Instant.EPOCH : end,
            Cause.fromStored(reason, offences)),
            reason == null ? "trap" : reason, null, row.isNull("generation") ? 0 : row.getInt("generation"), null);
    }

    /**
     * One page of listings (at most {@code size}, well-formed only) after {@code cursor} (null: the start). Completes with
     * the cursor that continues, or null at the end.
     *
     * @throws IllegalArgumentException if {@code cursor} is not one this method returned
     */
    public CompletionStage<String> listingPage(String cursor, int size, java.util.function.Consumer<Listing> visitor) {
        java.nio.ByteBuffer from;
        try {
            from = cursor == null ? null : java.nio.ByteBuffer.wrap(java.util.Base64.getUrlDecoder().decode(cursor));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + cursor + "' is not a cursor", e);
        }
        return ready().thenCompose(p -> {
            BoundStatement st = p.read(p.readListings.bind()).setPageSize(size);
            if (from != null) {
                st = st.setPagingState(from);
            }
            return p.session.executeAsync(st);
        }).thenApply(rs -> {
            for (Row row : rs.currentPage()) {
                Listing l = listingOrNull(row);
                if (l != null) {
                    visitor.accept(l);
                }
            }
            if (!rs.hasMorePages()) {
                return null;
            }
            java.nio.ByteBuffer state = rs.getExecutionInfo().getPagingState();
            byte[] bytes = new byte[state.remaining()];
            state.duplicate().get(bytes);
            return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        });
    }

    /** The row's listing, or null (logged once) if it lacks its key or expiry, or its key is no address or prefix. */
    Listing listingOrNull(Row row) {
        String ip = listedKeyOrNull(row);
        if (ip == null) {
            return null;
        }
        ClientRecord r = new ClientRecord(ip).readListing(row);
        return new Listing(r.offender(), r.reason == null ? "trap" : r.reason, r.cause, r.generation, r.forgivenAt);
    }

    /**
     * The key of a row that holds a listing, or null: a row without a key, with a key that is no address or prefix, or
     * with listing columns but no end is skipped and reported; a row without any listing column is evidence alone.
     */
    private String listedKeyOrNull(Row row) {
        String ip = row.getString("ip");
        if (ip == null || ip.isBlank()) {
            problems.skip(Schema.OFFENDERS, "(no key)", "no ip");
            return null;
        }
        if (row.getInstant("expires_at") == null) {
            if (row.getString("reason") != null || row.getString("trap") != null || !row.isNull("hit_count")) {
                problems.skip(Schema.OFFENDERS, ip, "no expires_at (insert rows with expires_at and a TTL)");
            }
            return null; // without any listing column: evidence alone, no listing (nothing to say)
        }
        try {
            CidrRange.parse(ip);
        } catch (IllegalArgumentException e) {
            problems.skip(Schema.OFFENDERS, ip, e.getMessage());
            return null;
        }
        return ip;
    }

    /** One offender's listing and evidence (the newest hit of each evidence slot, newest first), if it has a listing row. */
    public CompletionStage<java.util.Optional<Listing>> offender(String key) {
        return ready().thenCompose(p -> listings.read(p, key).thenCombine(
            Paging.collect(p.session.executeAsync(p.read(p.readEvidence.bind(key))), row -> row.getString("hit_id") == null || row.getInstant("hit_at") == null
                ? null : new TrapHit(row.getString("hit_id"), key, row.getString("hit_client") == null ? key : row.getString("hit_client"),
                row.getInstant("hit_at"), row.getString("hit_trap") == null ? "" : row.getString("hit_trap"), row.getString("hit_helo"),
                row.getString("hit_mail_from"), row.getString("hit_node"))),
            (r, hits) -> {
                if (r.expiresAt == null) {
                    return java.util.Optional.<Listing>empty();
                }
                hits.removeIf(java.util.Objects::isNull);
                hits.sort(java.util.Comparator.comparing(TrapHit::at).reversed());
                return java.util.Optional.of(new Listing(r.offender(), r.reason == null ? "trap" : r.reason, r.cause, r.generation, r.forgivenAt, hits));
            }));
    }

    /** Forgives {@code key} ({@link Listings#forgive}); announced on the change feed. */
    @Override
    public CompletionStage<Void> remove(String key) {
        return forgive(key).thenApply(x -> null);
    }

    /** Forgives {@code key}; completes with whether it was listed. */
    public CompletionStage<Boolean> forgive(String key) {
        return ready().thenCompose(p -> listings.forgive(p, key));
    }

    /** Lists {@code key} by hand (reason {@code manual}, {@code note} kept as its cause) until {@code until}, unless listed longer. */
    public CompletionStage<Offender> listByHand(String key, Instant until, String note) {
        return ready().thenCompose(p -> listings.list(p, key, until, "manual", note == null || note.isEmpty() ? null : note, nodeName, 0, false))
            .thenApply(java.util.Optional::get);
    }

    /**
     * Lists {@code key} for a protocol sensor ({@code cause}, class protocol) until {@code until}, unless it is listed
     * longer, or listed now for a trap, a prefix or by hand (a sensor never weakens those). {@code evidence} (what the
     * client sent, cleaned by the caller) is kept as the listing's cause column. Completes with the listing written, or
     * empty.
     */
    @Override
    public CompletionStage<java.util.Optional<Offender>> listForProtocol(String key, Instant until, dev.spamtrap.core.offender.Cause cause,
                                                                         String evidence) {
        if (!cause.isWeak()) {
            throw new IllegalArgumentException(cause + " is not a protocol sensor's cause");
        }
        return ready().thenCompose(p -> listings.list(p, key, until, cause.label(), evidence, nodeName, 0, false));
    }

    @Override
    public CompletionStage<Void> rememberPass(String key, Instant until) {
        return ready().thenCompose(p -> {
            int ttl = Statements.ttlSeconds(clock.instant(), until);
            if (ttl < 1) {
                return CompletableFuture.completedFuture(null);
            }
            return p.session.executeAsync(p.write(p.writePass.bind(key, until, ttl)))
                .thenCompose(x -> feed.publish(p, Change.PASSED, key, until, 0));
        });
    }

    @Override
    public CompletionStage<Long> forEachPass(java.util.function.BiConsumer<String, Instant> visitor) {
        Instant now = clock.instant();
        java.util.concurrent.atomic.AtomicLong rows = new java.util.concurrent.atomic.AtomicLong();
        return ready().thenCompose(p -> p.session.executeAsync(p.read(p.readPasses.bind())).thenCompose(rs -> Paging.eachRow(rs, row -> {
            rows.incrementAndGet();
            String client = row.getString("client");
            Instant until = row.getInstant("until");
            if (client != null && until != null && until.isAfter(now)) {
                visitor.accept(client, until);
            }
        }))).thenApply(x -> rows.get());
    }

    // ---- change feed ----

    @Override
    public CompletionStage<List<FeedSource>> feedSources() {
        return ready().thenCompose(Feed::sources);
    }

    @Override
    public CompletionStage<Long> feedHead(FeedSource source) {
        return ready().thenCompose(p -> Feed.head(p, source));
    }

    @Override
    public CompletionStage<List<Change>> changesAfter(FeedSource source, long seq) {
        return ready().thenCompose(p -> Feed.after(p, source, seq, problems).thenApply(changes -> {
            if (!source.equals(feed.source())) {
                // another writer's listing that began: if this node just wrote a first listing of the same key, it recounts
                for (Change c : changes) {
                    if (Change.LISTED.equals(c.kind())) {
                        recording.listedElsewhere(p, c.key());
                    }
                }
            }
            return changes;
        }));
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

    private static TableEntry tableEntry(Row r, String column) {
        return r.getString(column) == null ? null : new TableEntry(r.getString(column), r.getString("comment"), r.getInstant("added_at"));
    }

    /** The trap table's entries, sorted. */
    public CompletionStage<List<TableEntry>> traps() {
        return ready().thenCompose(p -> Paging.collect(p.session.executeAsync(p.read(p.readTraps.bind())), r -> tableEntry(r, "entry")))
            .thenApply(CassandraOffenderStore::sorted);
    }

    /** The allowlist table's ranges, sorted. */
    public CompletionStage<List<TableEntry>> allowlist() {
        return ready().thenCompose(p -> Paging.collect(p.session.executeAsync(p.read(p.readAllowlist.bind())), r -> tableEntry(r, "cidr")))
            .thenApply(CassandraOffenderStore::sorted);
    }

    /** Adds a trap entry (already validated) unless present; announced. Completes with whether it was added. */
    public CompletionStage<Boolean> addTrap(String entry, String comment, Instant at) {
        return ready().thenCompose(p -> putIfAbsent(p, p.readTrap.bind(entry), p.writeTrap.bind(entry, comment, at), Change.TRAPS));
    }

    /** Removes a trap entry if present; announced. */
    public CompletionStage<Boolean> removeTrap(String entry) {
        return ready().thenCompose(p -> deleteIfPresent(p, p.readTrap.bind(entry), p.deleteTrap.bind(entry), Change.TRAPS));
    }

    /** Adds an allowlisted range (already normalised), or replaces its comment; announced. */
    public CompletionStage<Void> addAllowed(String cidr, String comment, Instant at) {
        return ready().thenCompose(p -> p.session.executeAsync(p.write(p.writeAllowed.bind(cidr, comment, at)))
            .thenCompose(x -> listings.announce(p, Change.ALLOWLIST)));
    }

    /** Removes an allowlisted range if present; announced. */
    public CompletionStage<Boolean> removeAllowed(String cidr) {
        return ready().thenCompose(p -> deleteIfPresent(p, p.readAllowed.bind(cidr), p.deleteAllowed.bind(cidr), Change.ALLOWLIST));
    }

    private CompletionStage<Boolean> putIfAbsent(Statements p, BoundStatement read, BoundStatement write, String kind) {
        return p.session.executeAsync(p.read(read)).thenCompose(rs -> rs.one() != null ? CompletableFuture.completedFuture(false)
            : p.session.executeAsync(p.write(write)).thenCompose(x -> listings.announce(p, kind)).thenApply(x -> true));
    }

    private CompletionStage<Boolean> deleteIfPresent(Statements p, BoundStatement read, BoundStatement delete, String kind) {
        return p.session.executeAsync(p.read(read)).thenCompose(rs -> rs.one() == null ? CompletableFuture.completedFuture(false)
            : p.session.executeAsync(p.write(delete)).thenCompose(x -> listings.announce(p, kind)).thenApply(x -> true));
    }

    private static List<TableEntry> sorted(List<TableEntry> entries) {
        entries.removeIf(java.util.Objects::isNull);
        entries.sort(java.util.Comparator.comparing(TableEntry::value));
        return entries;
    }

    @Override
    public synchronized void close() {
        feed.close();
        Statements p = prepared;
        prepared = null;
        if (p != null) {
            p.session.close();
        }
    }
}
