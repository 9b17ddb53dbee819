package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.offender.TrapHit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The offender store on Cassandra (java-driver-core 4.19). {@link #connect()} blocks and is only called
 * from the spamtrap's own scheduler thread or at start; every other call is asynchronous and fails fast
 * while the store is not connected, so a down Cassandra never holds an SMTP thread.
 */
public final class CassandraOffenderStore implements OffenderStore {
    private static final Logger LOGGER = LoggerFactory.getLogger(CassandraOffenderStore.class);

    private final CassandraSettings settings;
    private final OffenderPolicy policy;
    private final Clock clock;
    private volatile Prepared prepared;

    private static final class Prepared {
        final CqlSession session;
        final PreparedStatement readHistory;
        final PreparedStatement writeHistory;
        final PreparedStatement writeOffender;
        final PreparedStatement readOffenders;
        final PreparedStatement deleteOffender;
        final PreparedStatement readTraps;
        final PreparedStatement readAllowlist;

        Prepared(CqlSession s, String ks) {
            session = s;
            readHistory = s.prepare("SELECT hit_count, first_hit FROM " + ks + ".offender_history WHERE ip = ?");
            writeHistory = s.prepare("INSERT INTO " + ks + ".offender_history (ip, hit_count, first_hit, last_hit) VALUES (?, ?, ?, ?) USING TTL ?");
            writeOffender = s.prepare("INSERT INTO " + ks + ".offenders (ip, first_hit, last_hit, hit_count, trap, helo, mail_from, node, expires_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?");
            readOffenders = s.prepare("SELECT ip, first_hit, last_hit, hit_count, trap, helo, mail_from, node, expires_at FROM " + ks + ".offenders");
            deleteOffender = s.prepare("DELETE FROM " + ks + ".offenders WHERE ip = ?");
            readTraps = s.prepare("SELECT entry FROM " + ks + ".traps");
            readAllowlist = s.prepare("SELECT cidr FROM " + ks + ".allowlist");
        }
    }

    public CassandraOffenderStore(CassandraSettings settings, OffenderPolicy policy, Clock clock) {
        this.settings = settings;
        this.policy = policy;
        this.clock = clock;
    }

    public boolean isConnected() {
        return prepared != null;
    }

    /**
     * Connects, creates the schema if needed and prepares statements. Blocking: never call from an SMTP thread.
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
            for (String cql : Schema.statements(settings.keyspace(), settings.replicationFactor())) {
                session.execute(SimpleStatement.newInstance(cql).setTimeout(Duration.ofSeconds(30)));
            }
            prepared = new Prepared(session, Schema.quote(settings.keyspace()));
            LOGGER.info("Spamtrap store connected to Cassandra {} keyspace '{}'", settings.contactPoints(), settings.keyspace());
        } catch (RuntimeException e) {
            session.close();
            throw e;
        }
    }

    private CompletionStage<Prepared> ready() {
        Prepared p = prepared;
        if (p == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("Cassandra store is not connected"));
        }
        return CompletableFuture.completedFuture(p);
    }

    @Override
    public CompletionStage<Offender> record(TrapHit hit) {
        return ready().thenCompose(p -> p.session.executeAsync(p.readHistory.bind(hit.ip()))
            .thenCompose(rs -> {
                Row row = rs.one();
                int previous = row == null ? 0 : row.getInt("hit_count");
                Instant first = row == null ? null : row.getInstant("first_hit");
                Offender offender = policy.apply(hit, previous, first);
                Instant now = clock.instant();
                int historyTtl = ttlSeconds(now, hit.at().plus(policy.historyLifetime()));
                CompletionStage<?> history = historyTtl > 0
                    ? p.session.executeAsync(p.writeHistory.bind(hit.ip(), offender.hitCount(), offender.firstHit(), offender.lastHit(), historyTtl))
                    : CompletableFuture.completedFuture(null);
                int offenderTtl = ttlSeconds(now, offender.expiresAt());
                // A hit replayed from the spool long after it happened may already be expired: keep its history only.
                CompletionStage<?> current = offenderTtl > 0
                    ? p.session.executeAsync(p.writeOffender.bind(offender.ip(), offender.firstHit(), offender.lastHit(), offender.hitCount(),
                        offender.trap(), offender.helo(), offender.mailFrom(), offender.node(), offender.expiresAt(), offenderTtl))
                    : CompletableFuture.completedFuture(null);
                return history.thenCombine(current, (a, b) -> offender);
            }));
    }

    private static int ttlSeconds(Instant now, Instant until) {
        long millis = Duration.between(now, until).toMillis();
        if (millis <= 0) {
            return 0;
        }
        return (int) Math.min(Integer.MAX_VALUE, (millis + 999) / 1000);
    }

    @Override
    public CompletionStage<List<Offender>> loadActive() {
        Instant now = clock.instant();
        return ready().thenCompose(p -> p.session.executeAsync(p.readOffenders.bind())
            .thenCompose(rs -> collect(rs, new ArrayList<>(), row -> new Offender(row.getString("ip"), row.getInstant("first_hit"),
                row.getInstant("last_hit"), row.getInt("hit_count"), row.getString("trap"), row.getString("helo"),
                row.getString("mail_from"), row.getString("node"), row.getInstant("expires_at")))))
            .thenApply(all -> {
                all.removeIf(o -> o.expiresAt() == null || !o.isActiveAt(now));
                return all;
            });
    }

    @Override
    public CompletionStage<Void> remove(String ip) {
        return ready().thenCompose(p -> p.session.executeAsync(p.deleteOffender.bind(ip))).thenApply(rs -> null);
    }

    @Override
    public CompletionStage<List<String>> loadTrapEntries() {
        return ready().thenCompose(p -> p.session.executeAsync(p.readTraps.bind()))
            .thenCompose(rs -> collect(rs, new ArrayList<>(), row -> row.getString("entry")));
    }

    @Override
    public CompletionStage<List<String>> loadAllowlistEntries() {
        return ready().thenCompose(p -> p.session.executeAsync(p.readAllowlist.bind()))
            .thenCompose(rs -> collect(rs, new ArrayList<>(), row -> row.getString("cidr")));
    }

    private static <T> CompletionStage<List<T>> collect(AsyncResultSet rs, List<T> into, Function<Row, T> mapper) {
        for (Row row : rs.currentPage()) {
            into.add(mapper.apply(row));
        }
        if (rs.hasMorePages()) {
            return rs.fetchNextPage().thenCompose(next -> collect(next, into, mapper));
        }
        return CompletableFuture.completedFuture(into);
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
