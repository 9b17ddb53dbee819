package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Statement;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** One session's prepared statements and the consistency levels every request of the store goes out at. */
final class Statements {
    /** Rows per page of every read. */
    static final int PAGE_SIZE = 5000;

    final CqlSession session;
    /** The keyspace, as written in CQL. */
    final String ks;
    final ConsistencyLevel writeLevel;
    final ConsistencyLevel readLevel;
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

    Statements(CqlSession s, String ks, ConsistencyLevel writeLevel, ConsistencyLevel readLevel) {
        this.session = s;
        this.ks = ks;
        this.writeLevel = writeLevel;
        this.readLevel = readLevel;
        String offenderColumns = "ip, expires_at, reason, first_hit, last_hit, hit_count, trap, helo, mail_from, node, cause";
        insertHit = s.prepare("INSERT INTO " + ks + ".hits (ip, at, id, client, trap, helo, mail_from, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?");
        readHitTimesIn = s.prepare("SELECT ip, at FROM " + ks + ".hits WHERE ip IN ?");
        readOffendersIn = s.prepare("SELECT " + offenderColumns + " FROM " + ks + ".offenders WHERE ip IN ?");
        readHits = s.prepare("SELECT at, id, client, trap, helo, mail_from, node FROM " + ks + ".hits WHERE ip = ?");
        readHitKeys = s.prepare("SELECT DISTINCT ip FROM " + ks + ".hits");
        readOffender = s.prepare("SELECT " + offenderColumns + " FROM " + ks + ".offenders WHERE ip = ?");
        writeOffender = s.prepare("INSERT INTO " + ks + ".offenders (" + offenderColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?");
        readOffenders = s.prepare("SELECT " + offenderColumns + " FROM " + ks + ".offenders");
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

    /** Writes {@code rows} in one request at the write level ({@link #oneRequest}). */
    Statement<?> write(List<? extends BatchableStatement<?>> rows) {
        return oneRequest(rows).setConsistencyLevel(writeLevel);
    }

    /** Rows as one request: a single row alone, more as an unlogged batch (a replay rewrites them all idempotently). */
    static Statement<?> oneRequest(List<? extends BatchableStatement<?>> rows) {
        return rows.size() == 1 ? rows.get(0) : BatchStatement.newInstance(DefaultBatchType.UNLOGGED, rows.toArray(new BatchableStatement[0]));
    }

    BoundStatement read(BoundStatement b) {
        return b.setConsistencyLevel(readLevel).setPageSize(PAGE_SIZE);
    }

    /** Seconds from {@code now} to {@code until}, rounded up and capped at Cassandra's 20-year TTL; 0 when past. */
    static int ttlSeconds(Instant now, Instant until) {
        long millis = Duration.between(now, until).toMillis();
        if (millis <= 0) {
            return 0;
        }
        return (int) Math.min(630_720_000L, (millis + 999) / 1000);
    }
}
