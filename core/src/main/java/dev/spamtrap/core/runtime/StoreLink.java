package dev.spamtrap.core.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection state of the shared store as the background threads see it: connects on demand and
 * logs once when the store goes away and once when it is back. Thread-safe.
 */
final class StoreLink {
    private static final Logger LOGGER = LoggerFactory.getLogger(StoreLink.class);

    private final Spamtrap.Connector connector;
    private volatile boolean down;

    StoreLink(Spamtrap.Connector connector) {
        this.connector = connector;
    }

    /** True if connected (connecting now if needed); never throws. Blocking: background threads only. */
    synchronized boolean ensure() {
        if (connector.isConnected()) {
            return true;
        }
        try {
            connector.connect();
            up();
            return true;
        } catch (RuntimeException e) {
            failed(e.getMessage());
            return false;
        }
    }

    void up() {
        if (down) {
            LOGGER.warn("Spamtrap store is reachable again");
        }
        down = false;
    }

    void failed(String why) {
        if (!down) {
            LOGGER.error("Spamtrap store unreachable ({}); mail keeps flowing, hits are spooled and replayed", why);
        }
        down = true;
    }

    boolean reachable() {
        return !down && connector.isConnected();
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
