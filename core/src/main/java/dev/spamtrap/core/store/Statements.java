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
    /** The static columns of a listing, as every read of one selects them. */
    static final String LISTING_COLUMNS = "expires_at, listed_at, offences, hit_count, first_hit, last_hit, trap, helo, mail_from, node, reason,"
        + " cause, generation, forgiven_at";
    /** The static columns the connect-time view's full load reads ({@code trap} and {@code hit_count} only to name a bad row). */
    static final String VIEW_COLUMNS = "expires_at, last_hit, reason, offences, generation, trap, hit_count";
    /** Rows per page of every read. */
    static final int PAGE_SIZE = 5000;

    final CqlSession session;
    /** The keyspace, as written in CQL. */
    final String ks;
    final ConsistencyLevel writeLevel;
    final ConsistencyLevel readLevel;
    final PreparedStatement readClient;
    final PreparedStatement writeEvidence;
    final PreparedStatement writeListing;
    final PreparedStatement writeRecord;
    final PreparedStatement writeForgiven;
    final PreparedStatement readListings;
    final PreparedStatement readViewListings;
    final PreparedStatement readEvidence;
    final PreparedStatement writeFeed;
    final PreparedStatement readFeedAfter;
    final PreparedStatement readFeedHead;
    final PreparedStatement registerWriter;
    final PreparedStatement readWriters;
    final PreparedStatement insertPrefixHit;
    final PreparedStatement readPrefixHits;
    final PreparedStatement readTraps;
    final PreparedStatement readTrap;
    final PreparedStatement writeTrap;
    final PreparedStatement deleteTrap;
    final PreparedStatement readAllowlist;
    final PreparedStatement readAllowed;
    final PreparedStatement writeAllowed;
    final PreparedStatement deleteAllowed;
    final PreparedStatement writePass;
    final PreparedStatement readPasses;

    Statements(CqlSession s, String ks, ConsistencyLevel writeLevel, ConsistencyLevel readLevel) {
        this.session = s;
        this.ks = ks;
        this.writeLevel = writeLevel;
        this.readLevel = readLevel;
        readClient = s.prepare("SELECT slot, hit_id, hit_at, " + LISTING_COLUMNS + " FROM " + ks + ".offenders WHERE ip = ?");
        writeEvidence = s.prepare("INSERT INTO " + ks + ".offenders (ip, slot, hit_at, hit_id, hit_client, hit_trap, hit_helo, hit_mail_from, hit_node)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?");
        writeListing = s.prepare("INSERT INTO " + ks + ".offenders (ip, expires_at, listed_at, offences, hit_count, first_hit, last_hit, trap, helo,"
            + " mail_from, node, reason, cause, generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?");
        // one evidence row and the listing statics in one INSERT: a record write of one counted hit (a fresh client's)
        writeRecord = s.prepare("INSERT INTO " + ks + ".offenders (ip, slot, hit_at, hit_id, hit_client, hit_trap, hit_helo, hit_mail_from, hit_node,"
            + " expires_at, listed_at, offences, hit_count, first_hit, last_hit, trap, helo, mail_from, node, reason, cause, generation)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?");
        writeForgiven = s.prepare("INSERT INTO " + ks + ".offenders (ip, expires_at, listed_at, offences, hit_count, reason, cause, generation, forgiven_at)"
            + " VALUES (?, ?, ?, 0, 0, 'forgiven', ?, ?, ?) USING TTL ? AND TIMESTAMP ?");
        readListings = s.prepare("SELECT DISTINCT ip, " + LISTING_COLUMNS + " FROM " + ks + ".offenders");
        readViewListings = s.prepare("SELECT DISTINCT ip, " + VIEW_COLUMNS + " FROM " + ks + ".offenders WHERE token(ip) > ? AND token(ip) <= ?");
        readEvidence = s.prepare("SELECT hit_at, hit_id, hit_client, hit_trap, hit_helo, hit_mail_from, hit_node FROM " + ks + ".offenders WHERE ip = ?"
            + " AND slot >= 0");
        writeFeed = s.prepare("INSERT INTO " + ks + ".feed (writer, epoch, seq, changes) VALUES (?, ?, ?, ?)");
        readFeedAfter = s.prepare("SELECT seq, changes FROM " + ks + ".feed WHERE writer = ? AND epoch = ? AND seq > ?");
        readFeedHead = s.prepare("SELECT seq FROM " + ks + ".feed WHERE writer = ? AND epoch = ? ORDER BY seq DESC LIMIT 1");
        registerWriter = s.prepare("INSERT INTO " + ks + ".feed_writers (ring, writer, epoch) VALUES (0, ?, ?) USING TTL ?");
        readWriters = s.prepare("SELECT writer, epoch FROM " + ks + ".feed_writers WHERE ring = 0");
        insertPrefixHit = s.prepare("INSERT INTO " + ks + ".prefix_hits (prefix, client, at, id) VALUES (?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?");
        readPrefixHits = s.prepare("SELECT client, id FROM " + ks + ".prefix_hits WHERE prefix = ?");
        readTraps = s.prepare("SELECT entry, comment, added_at FROM " + ks + ".traps");
        readTrap = s.prepare("SELECT entry FROM " + ks + ".traps WHERE entry = ?");
        writeTrap = s.prepare("INSERT INTO " + ks + ".traps (entry, comment, added_at) VALUES (?, ?, ?)");
        deleteTrap = s.prepare("DELETE FROM " + ks + ".traps WHERE entry = ?");
        readAllowlist = s.prepare("SELECT cidr, comment, added_at FROM " + ks + ".allowlist");
        readAllowed = s.prepare("SELECT cidr FROM " + ks + ".allowlist WHERE cidr = ?");
        writeAllowed = s.prepare("INSERT INTO " + ks + ".allowlist (cidr, comment, added_at) VALUES (?, ?, ?)");
        deleteAllowed = s.prepare("DELETE FROM " + ks + ".allowlist WHERE cidr = ?");
        writePass = s.prepare("INSERT INTO " + ks + ".pregreet_passed (client, until) VALUES (?, ?) USING TTL ?");
        readPasses = s.prepare("SELECT client, until FROM " + ks + ".pregreet_passed");
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
