package dev.spamtrap.core.admin;

import dev.spamtrap.core.offender.Cause;

import java.time.Instant;

/** One listed offender as shown in a listing. {@code key} is an IPv4 address or a CIDR prefix (IPv6 /64 by default). */
public final class OffenderSummary {
    private final String key;
    private final Instant firstHit;
    private final Instant lastHit;
    private final int hitCount;
    private final String lastTrap;
    private final String lastNode;
    private final Instant expiresAt;
    private final String reason;
    private final Cause cause;

    public OffenderSummary(String key, Instant firstHit, Instant lastHit, int hitCount, String lastTrap, String lastNode,
                           Instant expiresAt, String reason) {
        this(key, firstHit, lastHit, hitCount, lastTrap, lastNode, expiresAt, reason, Cause.fromStored(reason, 1));
    }

    public OffenderSummary(String key, Instant firstHit, Instant lastHit, int hitCount, String lastTrap, String lastNode,
                           Instant expiresAt, String reason, Cause cause) {
        this.cause = cause;
        this.key = key;
        this.firstHit = firstHit;
        this.lastHit = lastHit;
        this.hitCount = hitCount;
        this.lastTrap = lastTrap;
        this.lastNode = lastNode;
        this.expiresAt = expiresAt;
        this.reason = reason;
    }

    public String key() { return key; }
    public Instant firstHit() { return firstHit; }
    public Instant lastHit() { return lastHit; }
    public int hitCount() { return hitCount; }
    public String lastTrap() { return lastTrap; }
    public String lastNode() { return lastNode; }
    public Instant expiresAt() { return expiresAt; }
    /** As stored: {@code trap}, {@code manual} (listed by hand), {@code prefix-escalation} or {@code protocol:<sensor>} ({@code observe:...} when observed). */
    public String reason() { return reason; }
    /** Why it is listed: cause, confidence class, sensor, observed or not. */
    public Cause cause() { return cause; }
}
