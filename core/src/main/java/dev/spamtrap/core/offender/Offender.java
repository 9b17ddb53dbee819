package dev.spamtrap.core.offender;

import java.time.Instant;
import java.util.Objects;

/** The offender record as kept in Cassandra's {@code offenders} table. Immutable. */
public final class Offender {
    private final String ip;
    private final Instant firstHit;
    private final Instant lastHit;
    private final int hitCount;
    private final String trap;
    private final String helo;
    private final String mailFrom;
    private final String node;
    private final Instant expiresAt;

    public Offender(String ip, Instant firstHit, Instant lastHit, int hitCount, String trap, String helo,
                    String mailFrom, String node, Instant expiresAt) {
        this.ip = Objects.requireNonNull(ip);
        this.firstHit = firstHit;
        this.lastHit = lastHit;
        this.hitCount = hitCount;
        this.trap = trap;
        this.helo = helo;
        this.mailFrom = mailFrom;
        this.node = node;
        this.expiresAt = Objects.requireNonNull(expiresAt);
    }

    public String ip() { return ip; }
    public Instant firstHit() { return firstHit; }
    public Instant lastHit() { return lastHit; }
    public int hitCount() { return hitCount; }
    public String trap() { return trap; }
    public String helo() { return helo; }
    public String mailFrom() { return mailFrom; }
    public String node() { return node; }
    public Instant expiresAt() { return expiresAt; }

    public boolean isActiveAt(Instant now) {
        return expiresAt.isAfter(now);
    }

    @Override
    public String toString() {
        return "Offender{ip=" + ip + ", hits=" + hitCount + ", firstHit=" + firstHit + ", lastHit=" + lastHit
            + ", trap=" + trap + ", node=" + node + ", expiresAt=" + expiresAt + "}";
    }
}
