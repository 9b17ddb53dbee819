package dev.spamtrap.agent.safety;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.LongSupplier;

/**
 * Stops new blocks when more than {@code maxPerMinute} of them are asked for within a sliding minute.
 * Every attempt to add a new block counts, admitted or not, so a steady flood keeps the breaker open; it
 * closes by itself once the attempts of the last minute fall back under the limit. While open it says so
 * at ERROR level, at most once a minute, with how many blocks it refused. Refreshing a block that is
 * already in place and unblocking are never limited: they do not widen the firewall.
 * <p>
 * The minute is measured on the monotonic clock ({@code System.nanoTime}), in 60 one-second buckets: a wall-clock
 * step neither holds the breaker open nor closes it, and its memory is the same whatever the flood.
 * Not thread-safe: used by the agent's single applier thread.
 */
public final class CircuitBreaker {
    private static final Logger LOGGER = LoggerFactory.getLogger(CircuitBreaker.class);
    private static final long SECOND = 1_000_000_000L;
    private static final int BUCKETS = 60;

    private final int maxPerMinute;
    private final LongSupplier nanoTime;
    private final long[] bucketSecond = new long[BUCKETS];
    private final int[] bucketCount = new int[BUCKETS];
    private boolean open;
    private long lastLoud;
    private long refusedWhileOpen;
    private long refusedTotal;

    public CircuitBreaker(int maxPerMinute, LongSupplier nanoTime) {
        if (maxPerMinute < 1) {
            throw new IllegalArgumentException("maxPerMinute must be at least 1");
        }
        this.maxPerMinute = maxPerMinute;
        this.nanoTime = nanoTime;
        java.util.Arrays.fill(bucketSecond, Long.MIN_VALUE);
    }

    /** Attempts within the last 60 seconds, this one's second included. */
    private int attemptsInMinute(long second) {
        int n = 0;
        for (int i = 0; i < BUCKETS; i++) {
            if (bucketSecond[i] > second - BUCKETS) {
                n += bucketCount[i];
            }
        }
        return n;
    }

    private void count(long second) {
        int i = (int) Math.floorMod(second, (long) BUCKETS);
        if (bucketSecond[i] != second) {
            bucketSecond[i] = second;
            bucketCount[i] = 0;
        }
        bucketCount[i]++;
    }

    /** Asks to add one new block now; false when the breaker is (or just went) open. */
    public boolean tryAdmit(Object what) {
        long now = nanoTime.getAsLong();
        long second = Math.floorDiv(now, SECOND);
        int before = attemptsInMinute(second);
        if (open && before < maxPerMinute) {
            open = false;
            LOGGER.warn("CIRCUIT BREAKER CLOSED: new blocks fell under {} per minute, blocking again; {} block(s) were refused while it was open "
                + "(the next reconcile from Cassandra adds those still active)", maxPerMinute, refusedWhileOpen);
            refusedWhileOpen = 0;
        }
        count(second);
        if (!open && before + 1 > maxPerMinute) {
            open = true;
            lastLoud = now - 60 * SECOND;
        }
        if (!open) {
            return true;
        }
        refusedTotal++;
        refusedWhileOpen++;
        if (now - lastLoud >= 60 * SECOND) {
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
