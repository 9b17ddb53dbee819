package dev.spamtrap.core.offender;

import java.time.Instant;
import java.util.Objects;

/**
 * What a connect-time lookup answers for a client: the listed key that covers it (its own key, a listed prefix around
 * it, or its address on a loaded list), since when and until when, and why. The evidence stays in the store
 * ({@link Offender} is the stored record). Immutable.
 */
public final class ActiveListing {
    private final String key;
    private final Instant since;
    private final Instant until;
    private final Cause cause;

    /** {@code since} may be null where the start is not known (a hit not yet stored, a loaded list). */
    public ActiveListing(String key, Instant since, Instant until, Cause cause) {
        this.key = Objects.requireNonNull(key);
        this.since = since;
        this.until = Objects.requireNonNull(until);
        this.cause = Objects.requireNonNull(cause);
    }

    /** The listed key: an address or a prefix. */
    public String key() { return key; }
    /** When this listing began, or null if not known. */
    public Instant since() { return since; }
    public Instant until() { return until; }
    public Cause cause() { return cause; }

    /** The same listing for another cause (e.g. only observed). */
    public ActiveListing withCause(Cause other) {
        return new ActiveListing(key, since, until, other);
    }

    @Override
    public String toString() {
        return "ActiveListing{key=" + key + ", since=" + since + ", until=" + until + ", cause=" + cause + "}";
    }
}
