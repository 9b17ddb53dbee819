package dev.spamtrap.core.admin;

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

    public OffenderSummary(String key, Instant firstHit, Instant lastHit, int hitCount, String lastTrap, String lastNode,
                           Instant expiresAt, String reason) {
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
    /** {@code trap}, {@code manual} (listed by hand) or {@code prefix-escalation}. */
    public String reason() { return reason; }
}
