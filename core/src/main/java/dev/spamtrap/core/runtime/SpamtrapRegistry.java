package dev.spamtrap.core.runtime;

import dev.spamtrap.core.config.SpamtrapConfig;

import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * Shares one {@link Spamtrap} per configuration file between all the handlers of a James node (they are
 * instantiated separately by James but live in one extension class loader). Reference-counted: the last
 * handler to be destroyed closes it.
 */
public final class SpamtrapRegistry {
    private static final Map<Path, Entry> RUNNING = new HashMap<>();

    private static final class Entry {
        final Spamtrap spamtrap;
        int users;

        Entry(Spamtrap spamtrap) {
            this.spamtrap = spamtrap;
        }
    }

    private SpamtrapRegistry() {
    }

    public static synchronized Spamtrap acquire(Path configFile) {
        Path key = configFile.toAbsolutePath().normalize();
        Entry e = RUNNING.get(key);
        if (e == null) {
            e = new Entry(Spamtrap.start(SpamtrapConfig.load(key), Clock.systemUTC()));
            RUNNING.put(key, e);
        }
        e.users++;
        return e.spamtrap;
    }

    public static synchronized void release(Spamtrap spamtrap) {
        RUNNING.entrySet().removeIf(entry -> {
            if (entry.getValue().spamtrap != spamtrap) {
                return false;
            }
            if (--entry.getValue().users > 0) {
                return false;
            }
            spamtrap.close();
            return true;
        });
    }
}
