package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.data.TupleValue;
import com.datastax.oss.driver.api.core.type.ListType;
import com.datastax.oss.driver.api.core.type.TupleType;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import dev.spamtrap.core.offender.Cause;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The change feed, sharded by writer: each store that writes entries owns one partition {@code (writer, epoch)} of
 * table {@code feed}, and numbers its rows 1, 2, 3 ... ({@code seq}); a row holds every entry that was waiting when it
 * was written (up to {@link #ENTRIES_PER_ROW}). Rows are written one at a time: row n+1 only after row n is
 * acknowledged (a failed row is retried with the same number until it lands), so a writer's sequence has no gaps and
 * a reader that holds "applied up to n" of a source reads {@code seq > n} and can neither miss an entry that lands late
 * nor depend on any clock. The writer's {@code (writer, epoch)} is listed in {@code feed_writers} (refreshed every
 * {@link #REGISTRATION_REFRESH_MINUTES} minutes, TTL twice that) so readers find it.
 */
final class Feed implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(Feed.class);
    /**
     * At least the recorder's hits in flight ({@code SpoolReplay.HITS_IN_FLIGHT}, 2,048): each hit is confirmed only once
     * its entry's row landed and rows go one at a time, so with 200 a backlog of 2,048 first listings took ten round trips
     * in a row and the recorder's hits waited on them (measured: the distinct-client phase left a third of the two cores
     * idle). A full row is about 150 KB.
     */
    static final int ENTRIES_PER_ROW = 2048;
    /** Rows per page when reading a writer's rows: a page stays within a few MB however full its rows are. */
    static final int ROWS_PER_PAGE = 32;
    /** Entries waiting beyond this are refused at once (their hits are replayed from the spool later). */
    static final int MAX_WAITING = 100_000;
    static final long REGISTRATION_REFRESH_MINUTES = 30;
    static final int REGISTRATION_TTL_SECONDS = (int) (REGISTRATION_REFRESH_MINUTES * 60 * 4);

    /** One entry as a writer hands it in. */
    static final class Entry {
        final String kind;
        final String key;
        final Instant expiresAt;
        final int generation;
        final CompletableFuture<Void> landed = new CompletableFuture<>();

        Entry(String kind, String key, Instant expiresAt, int generation) {
            this.kind = kind;
            this.key = key == null ? "" : key;
            this.expiresAt = expiresAt;
            this.generation = generation;
        }
    }

    private final String writer;
    private final UUID epoch = Uuids.timeBased();
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "spamtrap-feed");
        t.setDaemon(true);
        return t;
    });
    private final ArrayDeque<Entry> waiting = new ArrayDeque<>();
    /** The row being written (null when none): retried with the same number until it lands. */
    private List<Entry> inFlight;
    private long lastSeq;
    private long registeredAtMillis = -1;
    private volatile Statements statements;

    Feed(String writer) {
        this.writer = writer;
    }

    FeedSource source() {
        return new FeedSource(writer, epoch.toString());
    }

    /** Queues entries; completes when the row holding the last of them has landed. */
    CompletableFuture<Void> publish(Statements p, List<Entry> entries) {
        if (entries.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        synchronized (this) {
            statements = p;
            if (waiting.size() + entries.size() > MAX_WAITING) {
                return CompletableFuture.failedFuture(new IllegalStateException("change feed: " + waiting.size() + " entries waiting"));
            }
            waiting.addAll(entries);
        }
        drain();
        return CompletableFuture.allOf(entries.stream().map(e -> e.landed).toArray(CompletableFuture[]::new));
    }

    CompletableFuture<Void> publish(Statements p, String kind, String key, Instant expiresAt, int generation) {
        return publish(p, List.of(new Entry(kind, key, expiresAt, generation)));
    }

    private void drain() {
        List<Entry> row;
        long seq;
        boolean register;
        synchronized (this) {
            if (inFlight != null || waiting.isEmpty()) {
                return;
            }
            row = new ArrayList<>(Math.min(ENTRIES_PER_ROW, waiting.size()));
            while (row.size() < ENTRIES_PER_ROW && !waiting.isEmpty()) {
                row.add(waiting.poll());
            }
            inFlight = row;
            seq = lastSeq + 1;
            long now = System.currentTimeMillis();
            register = registeredAtMillis < 0 || now - registeredAtMillis > TimeUnit.MINUTES.toMillis(REGISTRATION_REFRESH_MINUTES);
        }
        write(row, seq, register);
    }

    private void write(List<Entry> row, long seq, boolean register) {
        Statements p = statements;
        CompletionStage<?> registered = register
            ? p.session.executeAsync(p.write(p.registerWriter.bind(writer, epoch, REGISTRATION_TTL_SECONDS)))
            : CompletableFuture.completedFuture(null);
        registered.thenCompose(x -> p.session.executeAsync(p.write(rowStatement(p, seq, row)))).whenComplete((rs, e) -> {
            if (e != null) {
                LOGGER.warn("Change feed row {} of {} not written ({}); retried", seq, source(), e.toString());
                retries.schedule(() -> write(row, seq, register), 1, TimeUnit.SECONDS);
                return;
            }
            synchronized (this) {
                lastSeq = seq;
                inFlight = null;
                if (register) {
                    registeredAtMillis = System.currentTimeMillis();
                }
            }
            row.forEach(en -> en.landed.complete(null));
            drain();
        });
    }

    private BoundStatement rowStatement(Statements p, long seq, List<Entry> row) {
        TupleType tuple = (TupleType) ((ListType) p.writeFeed.getVariableDefinitions().get("changes").getType()).getElementType();
        List<TupleValue> values = new ArrayList<>(row.size());
        for (Entry e : row) {
            values.add(tuple.newValue(e.kind, e.key, e.expiresAt, e.generation));
        }
        return p.writeFeed.bind(writer, epoch, seq, values);
    }

    /** Every registered source. */
    static CompletionStage<List<FeedSource>> sources(Statements p) {
        return Paging.collect(p.session.executeAsync(p.read(p.readWriters.bind())),
            r -> r.getString("writer") == null || r.getUuid("epoch") == null ? null : new FeedSource(r.getString("writer"), r.getUuid("epoch").toString()))
            .thenApply(l -> {
                l.removeIf(java.util.Objects::isNull);
                return l;
            });
    }

    /** The last sequence number a source has written (0 if none or expired). */
    static CompletionStage<Long> head(Statements p, FeedSource s) {
        return p.session.executeAsync(p.read(p.readFeedHead.bind(s.writer(), UUID.fromString(s.epoch()))))
            .thenApply(rs -> {
                Row r = rs.one();
                return r == null ? 0L : r.getLong("seq");
            });
    }

    /** A source's entries after {@code seq}, in order; malformed entries are reported and left out, their row still counted. */
    static CompletionStage<List<Change>> after(Statements p, FeedSource s, long seq, RowProblems problems) {
        List<Change> out = new ArrayList<>();
        return p.session.executeAsync(p.read(p.readFeedAfter.bind(s.writer(), UUID.fromString(s.epoch()), seq)).setPageSize(ROWS_PER_PAGE))
            .thenCompose(rs -> Paging.eachRow(rs, r -> {
                long n = r.getLong("seq");
                List<TupleValue> entries = r.getList("changes", TupleValue.class);
                if (entries == null || entries.isEmpty()) {
                    out.add(new Change(s, n, "", "", null, 0)); // keeps the sequence whole
                    return;
                }
                for (TupleValue t : entries) {
                    String kind = t.getString(0);
                    String key = t.getString(1);
                    Instant until = t.getInstant(2);
                    int gen = t.isNull(3) ? 0 : t.getInt(3);
                    Cause cause = Cause.TRAP;
                    if (kind != null && kind.startsWith(Change.LISTED_WITH)) {
                        Cause named = Cause.ofLabel(kind.substring(Change.LISTED_WITH.length()));
                        cause = named == null ? Cause.TRAP : named;
                        kind = Change.LISTED;
                    }
                    if (kind == null) {
                        problems.skip(Schema.FEED, s + "#" + n, "no kind");
                        kind = "";
                    } else if ((Change.LISTED.equals(kind) || Change.REMOVED.equals(kind)) && (key == null || key.isEmpty())) {
                        problems.skip(Schema.FEED, s + "#" + n, "no key");
                        kind = "";
                    } else if (Change.LISTED.equals(kind) && until == null) {
                        problems.skip(Schema.FEED, s + "#" + n, "no expires_at");
                        kind = "";
                    }
                    out.add(new Change(s, n, kind, key, until, gen, cause));
                }
            }))
            .thenApply(x -> out);
    }

    @Override
    public void close() {
        retries.shutdownNow();
    }
}
