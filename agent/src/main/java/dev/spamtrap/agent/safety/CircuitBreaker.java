package dev.spamtrap.agent.safety;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayDeque;

/**
 * Stops new blocks when more than {@code maxPerMinute} of them are asked for within a sliding minute.
 * Every attempt to add a new block counts, admitted or not, so a steady flood keeps the breaker open; it
 * closes by itself once the attempts of the last minute fall back under the limit. While open it says so
 * at ERROR level, at most once a minute, with how many blocks it refused. Refreshing a block that is
 * already in place and unblocking are never limited: they do not widen the firewall.
 * Not thread-safe: used by the agent's single applier thread.
 */
public final class CircuitBreaker {
    private static final Logger LOGGER = LoggerFactory.getLogger(CircuitBreaker.class);
    private static final long MINUTE = 60_000;

    private final int maxPerMinute;
    private final Clock clock;
    private final ArrayDeque<Long> attempts = new ArrayDeque<>();
    private boolean open;
    private long lastLoud;
    private long refusedWhileOpen;
    private long refusedTotal;

    public CircuitBreaker(int maxPerMinute, Clock clock) {
        if (maxPerMinute < 1) {
            throw new IllegalArgumentException("maxPerMinute must be at least 1");
        }
        this.maxPerMinute = maxPerMinute;
        this.clock = clock;
    }

    /** Asks to add one new block now; false when the breaker is (or just went) open. */
    public boolean tryAdmit(String what) {
        long now = clock.millis();
        while (!attempts.isEmpty() && attempts.peekFirst() <= now - MINUTE) {
            attempts.pollFirst();
        }
        if (open && attempts.size() < maxPerMinute) {
            open = false;
            LOGGER.warn("CIRCUIT BREAKER CLOSED: new blocks fell under {} per minute, blocking again; {} block(s) were refused while it was open "
                + "(the next reconcile from Cassandra adds those still active)", maxPerMinute, refusedWhileOpen);
            refusedWhileOpen = 0;
        }
        attempts.addLast(now);
        if (!open && attempts.size() > maxPerMinute) {
            open = true;
            lastLoud = now - MINUTE;
        }
        if (!open) {
            return true;
        }
        refusedTotal++;
        refusedWhileOpen++;
        if (now - lastLoud >= MINUTE) {
            LOGGER.error("CIRCUIT BREAKER OPEN: more than {} new blocks asked for within a minute; NOT BLOCKING new addresses "
                + "({} refused so far, latest {}). Check the trap list and the James logs: is something recording everyone?",
                maxPerMinute, refusedWhileOpen, what);
            lastLoud = now;
        }
        return false;
    }

    public boolean isOpen() {
        return open;
    }

    public long refusedTotal() {
        return refusedTotal;
    }

    public int maxPerMinute() {
        return maxPerMinute;
    }
}
