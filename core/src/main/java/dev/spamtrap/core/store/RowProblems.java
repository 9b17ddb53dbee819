package dev.spamtrap.core.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Logs each malformed row once (by table and key), so a bad row is visible but never floods the log. */
final class RowProblems {
    private static final Logger LOGGER = LoggerFactory.getLogger(RowProblems.class);
    private static final int MAX_REMEMBERED = 10_000;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    void skip(String table, Object key, String why) {
        String id = table + "/" + key;
        if (reported.size() < MAX_REMEMBERED && reported.add(id)) {
            LOGGER.error("Cassandra table {}: row {} skipped: {}", table, key, why);
        }
    }
}
