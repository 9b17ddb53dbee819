package dev.spamtrap.core.store;

import java.util.List;

/**
 * The keyspace layout, created idempotently at start. Offender and history rows expire through
 * Cassandra TTLs (no sweeper), and those tables use TimeWindowCompactionStrategy so expired data is
 * dropped a whole SSTable at a time.
 */
final class Schema {
    private Schema() {
    }

    static List<String> statements(String keyspace, int replicationFactor) {
        String ks = quote(keyspace);
        return List.of(
            "CREATE KEYSPACE IF NOT EXISTS " + ks + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': "
                + replicationFactor + "}",
            "CREATE TABLE IF NOT EXISTS " + ks + ".offenders ("
                + "ip text PRIMARY KEY, first_hit timestamp, last_hit timestamp, hit_count int, trap text, helo text,"
                + " mail_from text, node text, expires_at timestamp)"
                + " WITH compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'HOURS', 'compaction_window_size': 6}"
                + " AND gc_grace_seconds = 10800",
            "CREATE TABLE IF NOT EXISTS " + ks + ".offender_history ("
                + "ip text PRIMARY KEY, hit_count int, first_hit timestamp, last_hit timestamp)"
                + " WITH compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'DAYS', 'compaction_window_size': 1}"
                + " AND gc_grace_seconds = 10800",
            "CREATE TABLE IF NOT EXISTS " + ks + ".traps (entry text PRIMARY KEY, comment text, added_at timestamp)",
            "CREATE TABLE IF NOT EXISTS " + ks + ".allowlist (cidr text PRIMARY KEY, comment text, added_at timestamp)");
    }

    static String quote(String identifier) {
        if (!identifier.matches("[A-Za-z][A-Za-z0-9_]{0,47}")) {
            throw new IllegalArgumentException("'" + identifier + "' is not a valid keyspace name (letters, digits, '_', starting with a letter)");
        }
        return identifier;
    }
}
