package dev.spamtrap.core.offender;

import java.time.Instant;
import java.util.Objects;

/** The offender record as kept in Cassandra's {@code offenders} table. Immutable. */
public final class Offender {
    private final String key;
    private final Instant firstHit;
    private final Instant lastHit;
    private final int hitCount;
    private final String trap;
    private final String helo;
    private final String mailFrom;
    private final String node;
    private final Instant expiresAt;
    private final Cause cause;

    /** A trap listing ({@link Cause#TRAP}). */
    public Offender(String key, Instant firstHit, Instant lastHit, int hitCount, String trap, String helo,
                    String mailFrom, String node, Instant expiresAt) {
        this(key, firstHit, lastHit, hitCount, trap, helo, mailFrom, node, expiresAt, Cause.TRAP);
    }

    public Offender(String key, Instant firstHit, Instant lastHit, int hitCount, String trap, String helo,
                    String mailFrom, String node, Instant expiresAt, Cause cause) {
        this.key = Objects.requireNonNull(key);
        this.firstHit = firstHit;
        this.lastHit = lastHit;
        this.hitCount = hitCount;
        this.trap = trap;
        this.helo = helo;
        this.mailFrom = mailFrom;
        this.node = node;
        this.expiresAt = Objects.requireNonNull(expiresAt);
        this.cause = Objects.requireNonNull(cause);
    }

    /** The offender key: an address, or a prefix (an IPv6 /64 by default, an escalated or hand-listed range). */
    public String key() { return key; }
    public Instant firstHit() { return firstHit; }
    public Instant lastHit() { return lastHit; }
    public int hitCount() { return hitCount; }
    public String trap() { return trap; }
    public String helo() { return helo; }
    public String mailFrom() { return mailFrom; }
    public String node() { return node; }
    public Instant expiresAt() { return expiresAt; }
    /** Why the key is listed (and so its confidence class). */
    public Cause cause() { return cause; }

    /** The same record for another cause. */
    public Offender withCause(Cause other) {
        return new Offender(key, firstHit, lastHit, hitCount, trap, helo, mailFrom, node, expiresAt, other);
    }

    public boolean isActiveAt(Instant now) {
        return expiresAt.isAfter(now);
    }

    @Override
    public String toString() {
        return "Offender{key=" + key + ", hits=" + hitCount + ", firstHit=" + firstHit + ", lastHit=" + lastHit
            + ", trap=" + trap + ", node=" + node + ", expiresAt=" + expiresAt + ", cause=" + cause + "}";
    }
}
