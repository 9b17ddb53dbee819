package dev.spamtrap.core.store;

import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.TrapHit;

import java.time.Instant;
import java.util.List;

/** An offender key's listing as stored: the offender, why it is listed, its forgive generation, and (when asked) its evidence. */
public final class Listing {
    private final Offender offender;
    private final String reason;
    private final String cause;
    private final int generation;
    private final Instant forgivenAt;
    private final List<TrapHit> evidence;

    Listing(Offender offender, String reason, String cause, int generation, Instant forgivenAt) {
        this(offender, reason, cause, generation, forgivenAt, List.of());
    }

    Listing(Offender offender, String reason, String cause, int generation, Instant forgivenAt, List<TrapHit> evidence) {
        this.offender = offender;
        this.reason = reason;
        this.cause = cause;
        this.generation = generation;
        this.forgivenAt = forgivenAt;
        this.evidence = List.copyOf(evidence);
    }

    /** Key, hits counted, first and last hit, the evidence of the hit that began the listing, and its end. */
    public Offender offender() { return offender; }
    /** {@code trap}, {@code manual}, {@code prefix-escalation}, {@code protocol:<sensor>} or {@code forgiven} (see {@link Offender#cause()}). */
    public String reason() { return reason; }
    /** A manual listing's note, or the hits that caused a prefix escalation; may be null. */
    public String cause() { return cause; }
    /** How many times the key was forgiven within the history kept (0: never). */
    public int generation() { return generation; }
    /** When it was last forgiven, by the forgiving node's clock (shown, never compared); null if never. */
    public Instant forgivenAt() { return forgivenAt; }
    /** The newest hit of each evidence slot, newest first (empty unless read with {@link CassandraOffenderStore#offender}). */
    public List<TrapHit> evidence() { return evidence; }

    public boolean isActiveAt(Instant now) {
        return !"forgiven".equals(reason) && offender.isActiveAt(now);
    }
}
