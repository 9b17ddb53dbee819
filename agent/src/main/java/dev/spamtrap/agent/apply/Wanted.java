package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.net.Prefix;

/**
 * One prefix the store wants blocked: until when, and when it was recorded (the minute the circuit breaker
 * counts it in; 0 when the store does not say). A snapshot is a plain list of these: no map of a million.
 */
public final class Wanted {
    final Prefix prefix;
    final long expiresAt;
    final long recordedAt;

    public Wanted(Prefix prefix, long expiresAt, long recordedAt) {
        this.prefix = prefix;
        this.expiresAt = expiresAt;
        this.recordedAt = recordedAt;
    }

    public Prefix prefix() {
        return prefix;
    }

    public long expiresAtMillis() {
        return expiresAt;
    }
}
