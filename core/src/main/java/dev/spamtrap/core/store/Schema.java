package dev.spamtrap.core.store;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The keyspace layout. Created once: at connect the store reads {@code system_schema} and runs only the
 * statements for what is missing, then checks that the keyspace uses NetworkTopologyStrategy with the
 * configured replication (a mismatch is logged, never "fixed" behind the administrator's back).
 *
 * <p>Compaction (see docs/store.md): {@code feed} is written
 * once with one TTL per table, so TimeWindowCompactionStrategy drops whole expired SSTables. {@code offenders}
 * holds rows of mixed lifetimes (24 h to 7 days, manual listings), overwritten on escalation and deleted on
 * forgive: LeveledCompactionStrategy keeps each key in few SSTables and purges overwritten, expired and
 * deleted data steadily, where TWCS would keep a window alive until its longest TTL ran out.
 */
final class Schema {
    static final String OFFENDERS = "offenders";
    static final String PREFIX_HITS = "prefix_hits";
    static final String FEED = "feed";
    static final String FEED_WRITERS = "feed_writers";
    static final String TRAPS = "traps";
    static final String ALLOWLIST = "allowlist";
    static final String PREGREET_PASSED = "pregreet_passed";

    private Schema() {
    }

    static String keyspace(String ks, Map<String, Integer> replication) {
        String dcs = replication.entrySet().stream()
            .map(e -> "'" + e.getKey().replace("'", "''") + "': " + e.getValue())
            .collect(Collectors.joining(", "));
        return "CREATE KEYSPACE IF NOT EXISTS " + quote(ks) + " WITH replication = {'class': 'NetworkTopologyStrategy', " + dcs + "}";
    }

    /** Table name to its CREATE statement, in creation order. */
    static Map<String, String> tables(String keyspace) {
        String ks = quote(keyspace);
        Map<String, String> t = new LinkedHashMap<>();
        // One partition per offender key: the listing in static columns, beside at most EVIDENCE_SLOTS rows of evidence.
        t.put(OFFENDERS, "CREATE TABLE IF NOT EXISTS " + ks + ".offenders ("
            + "ip text, slot int,"
            + " expires_at timestamp static, listed_at timestamp static, offences int static, hit_count int static,"
            + " first_hit timestamp static, last_hit timestamp static, trap text static, helo text static, mail_from text static,"
            + " node text static, reason text static, cause text static, generation int static, forgiven_at timestamp static,"
            + " hit_at timestamp, hit_id text, hit_client text, hit_trap text, hit_helo text, hit_mail_from text, hit_node text,"
            + " PRIMARY KEY (ip, slot))"
            + " WITH compaction = {'class': 'LeveledCompactionStrategy', 'unchecked_tombstone_compaction': 'true'}"
            + " AND gc_grace_seconds = 10800 AND comment = '" + OFFENDERS_MODEL + "'");
        // one row per trapping client of a prefix (the newest hit's time and id), kept for the escalation window
        t.put(PREFIX_HITS, "CREATE TABLE IF NOT EXISTS " + ks + ".prefix_hits ("
            + "prefix text, client text, at timestamp, id text, PRIMARY KEY (prefix, client))"
            + " WITH compaction = {'class': 'LeveledCompactionStrategy', 'unchecked_tombstone_compaction': 'true'}"
            + " AND gc_grace_seconds = 3600");
        t.put(FEED, "CREATE TABLE IF NOT EXISTS " + ks + ".feed ("
            + "writer text, epoch timeuuid, seq bigint, changes list<frozen<tuple<text, text, timestamp, int>>>, PRIMARY KEY ((writer, epoch), seq))"
            + " WITH compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'HOURS', 'compaction_window_size': 1}"
            + " AND default_time_to_live = 86400 AND gc_grace_seconds = 3600");
        t.put(FEED_WRITERS, "CREATE TABLE IF NOT EXISTS " + ks + ".feed_writers ("
            + "ring int, writer text, epoch timeuuid, PRIMARY KEY (ring, writer, epoch)) WITH gc_grace_seconds = 3600");
        // clients that waited for the final greeting: skip the pregreet test until the row's TTL (the pass lifetime) ends
        t.put(PREGREET_PASSED, "CREATE TABLE IF NOT EXISTS " + ks + ".pregreet_passed (client text PRIMARY KEY, until timestamp)"
            + " WITH compaction = {'class': 'LeveledCompactionStrategy', 'unchecked_tombstone_compaction': 'true'}"
            + " AND gc_grace_seconds = 3600");
        t.put(TRAPS, "CREATE TABLE IF NOT EXISTS " + ks + ".traps (entry text PRIMARY KEY, comment text, added_at timestamp)");
        t.put(ALLOWLIST, "CREATE TABLE IF NOT EXISTS " + ks + ".allowlist (cidr text PRIMARY KEY, comment text, added_at timestamp)");
        return t;
    }

    /** Rows of evidence kept per offender key: the 16 newest hits counted (a new one takes an empty slot, else the oldest). */
    static final int EVIDENCE_SLOTS = 16;

    /**
     * The {@code offenders} table's comment, naming how its cells are written: every cell of a record write (evidence
     * slots and listing) at the listing's computed write time. A table without it was written by an earlier build,
     * whose evidence cells carry their hit's wall-clock time: above every computed write time, so a new hit could never
     * take such a slot.
     */
    static final String OFFENDERS_MODEL = "james-spamtrap offenders 2: every cell of a record write at the listing write time";

    /** The refusal of a keyspace whose {@code offenders} has evidence slots but not {@link #OFFENDERS_MODEL}. */
    static String earlierBuild(String ks) {
        return "Cassandra keyspace '" + ks + "' was written by an earlier build of spamtrap (its offenders table has no comment '" + OFFENDERS_MODEL
            + "'): its evidence rows carry write times this version's writes could never replace. Drop it with: cqlsh -e \"DROP KEYSPACE " + ks
            + "\" (its listings go; offenders that trap again are listed again), or set cassandra.keyspace to a new name.";
    }

    /**
     * The refusal of a keyspace written by the previous version (an {@code offenders} table keyed by address alone beside
     * {@code hits} and {@code changes}), which this version neither reads nor converts.
     */
    static String previousVersion(String ks) {
        return "Cassandra keyspace '" + ks + "' holds the previous spamtrap schema (offenders keyed by ip alone, hits, changes), which this"
            + " version does not read. Drop it with: cqlsh -e \"DROP KEYSPACE " + ks + "\" (its listings go; offenders that trap again are"
            + " listed again), or set cassandra.keyspace to a new name.";
    }

    static String quote(String identifier) {
        if (!identifier.matches("[A-Za-z][A-Za-z0-9_]{0,47}")) {
            throw new IllegalArgumentException("'" + identifier + "' is not a valid keyspace name (letters, digits, '_', starting with a letter)");
        }
        return identifier;
    }
}
