package dev.spamtrap.agent.apply;

/**
 * One prefix the store wants blocked: until when, and when it was recorded (the minute the circuit breaker
 * counts it in; 0 when the store does not say).
 */
public final class Wanted {
    final long expiresAt;
    final long recordedAt;

    public Wanted(long expiresAt, long recordedAt) {
        this.expiresAt = expiresAt;
        this.recordedAt = recordedAt;
    }

    public long expiresAtMillis() {
        return expiresAt;
    }

    Wanted later(Wanted other) {
        return other.expiresAt > expiresAt ? other : this;
    }
}
