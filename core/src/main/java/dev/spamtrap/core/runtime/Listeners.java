package dev.spamtrap.core.runtime;

import dev.spamtrap.core.offender.OffenderListener;
import dev.spamtrap.core.offender.Offender;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The node's offender listeners (e.g. the firewall client); a failing listener never stops the others. With observe mode
 * for traps, every listing reaches them as observed (the firewall client then sends nothing).
 */
final class Listeners {
    private static final Logger LOGGER = LoggerFactory.getLogger(Listeners.class);
    private final List<OffenderListener> all = new CopyOnWriteArrayList<>();
    private final boolean observeTraps;

    Listeners() {
        this(false);
    }

    Listeners(boolean observeTraps) {
        this.observeTraps = observeTraps;
    }

    void add(OffenderListener l) {
        all.add(l);
    }

    void remove(OffenderListener l) {
        all.remove(l);
    }

    void recorded(Offender offender) {
        Offender o = observeTraps && !offender.cause().isWeak() ? offender.withCause(offender.cause().observed()) : offender;
        for (OffenderListener l : all) {
            try {
                l.offenderRecorded(o);
            } catch (RuntimeException e) {
                LOGGER.error("Offender listener {} failed", l, e);
            }
        }
    }

    void removed(String key) {
        for (OffenderListener l : all) {
            try {
                l.offenderRemoved(key);
            } catch (RuntimeException e) {
                LOGGER.error("Offender listener {} failed", l, e);
            }
        }
    }
}
