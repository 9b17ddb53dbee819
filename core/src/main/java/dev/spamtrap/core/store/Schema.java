package dev.spamtrap.core.store;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The keyspace layout. Created once: at connect the store reads {@code system_schema} and runs only the
 * statements for what is missing, then checks that the keyspace uses NetworkTopologyStrategy with the
 * configured replication (a mismatch is logged, never "fixed" behind the administrator's back).
 *
 * <p>Compaction (see docs/store.md): {@code hits}, {@code prefix_hits} and {@code changes} are written
 * once with one TTL per table, so TimeWindowCompactionStrategy drops whole expired SSTables. {@code offenders}
 * holds rows of mixed lifetimes (24 h to 7 days, manual listings), overwritten on escalation and deleted on
 * forgive: LeveledCompactionStrategy keeps each key in few SSTables and purges overwritten, expired and
 * deleted data steadily, where TWCS would keep a window alive until its longest TTL ran out.
 */
final class Schema {
    static final String OFFENDERS = "offenders";
    static final String HITS = "hits";
    static final String PREFIX_HITS = "prefix_hits";
    static final String CHANGES = "changes";
    static final String TRAPS = "traps";
    static final String ALLOWLIST = "allowlist";

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
        t.put(OFFENDERS, "CREATE TABLE IF NOT EXISTS " + ks + ".offenders ("
            + "ip text PRIMARY KEY, expires_at timestamp, reason text, first_hit timestamp, last_hit timestamp, hit_count int,"
            + " trap text, helo text, mail_from text, node text, cause text)"
            + " WITH compaction = {'class': 'LeveledCompactionStrategy', 'unchecked_tombstone_compaction': 'true'}"
            + " AND gc_grace_seconds = 10800");
        t.put(HITS, "CREATE TABLE IF NOT EXISTS " + ks + ".hits ("
            + "ip text, at timestamp, id text, client text, trap text, helo text, mail_from text, node text,"
            + " PRIMARY KEY (ip, at, id))"
            + " WITH compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}"
            + " AND gc_grace_seconds = 10800");
        t.put(PREFIX_HITS, "CREATE TABLE IF NOT EXISTS " + ks + ".prefix_hits ("
            + "prefix text, at timestamp, id text, client text, PRIMARY KEY (prefix, at, id))"
            + " WITH compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'HOURS', 'compaction_window_size': 1}"
            + " AND gc_grace_seconds = 3600");
        t.put(CHANGES, "CREATE TABLE IF NOT EXISTS " + ks + ".changes ("
            + "bucket bigint, id timeuuid, kind text, key text, expires_at timestamp, node text, PRIMARY KEY (bucket, id))"
            + " WITH compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'HOURS', 'compaction_window_size': 1}"
            + " AND default_time_to_live = 86400 AND gc_grace_seconds = 3600");
        t.put(TRAPS, "CREATE TABLE IF NOT EXISTS " + ks + ".traps (entry text PRIMARY KEY, comment text, added_at timestamp)");
        t.put(ALLOWLIST, "CREATE TABLE IF NOT EXISTS " + ks + ".allowlist (cidr text PRIMARY KEY, comment text, added_at timestamp)");
        return t;
    }

    static String quote(String identifier) {
        if (!identifier.matches("[A-Za-z][A-Za-z0-9_]{0,47}")) {
            throw new IllegalArgumentException("'" + identifier + "' is not a valid keyspace name (letters, digits, '_', starting with a letter)");
        }
        return identifier;
    }
}
