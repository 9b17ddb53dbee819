package dev.spamtrap.agent.server;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Nonces seen recently, each kept until the message that carried it can no longer pass the freshness check.
 * Bounded: when full of live nonces it refuses to take more (the caller refuses the message) rather than
 * forget one early, which would open a replay window. Thread-safe.
 */
final class NonceCache {
    private final int capacity;
    private final Map<String, Long> expiries = new HashMap<>();
    private final ArrayDeque<String> order = new ArrayDeque<>();

    NonceCache(int capacity) {
        this.capacity = capacity;
    }

    enum Result { NEW, SEEN, FULL }

    /** Records the nonce until {@code keepUntil} (epoch millis) unless it is already there. */
    synchronized Result remember(String nonce, long keepUntil, long now) {
        evict(now);
        Long until = expiries.get(nonce);
        if (until != null) {
            return Result.SEEN;
        }
        if (expiries.size() >= capacity) {
            return Result.FULL;
        }
        expiries.put(nonce, keepUntil);
        order.addLast(nonce);
        return Result.NEW;
    }

    private void evict(long now) {
        while (!order.isEmpty()) {
            String head = order.peekFirst();
            Long until = expiries.get(head);
            if (until != null && until >= now) {
                return;
            }
            order.pollFirst();
            expiries.remove(head);
        }
    }

    synchronized int size() {
        return expiries.size();
    }
}
