package dev.spamtrap.core.metrics;

/**
 * The counters the SMTP side bumps. Implemented with James's MetricFactory by the WebAdmin module
 * (so they appear on {@code GET /metrics}); {@link #NONE} where nothing publishes them (unit tests, tools).
 * Calls must be cheap and never block: they happen on the SMTP event loop.
 */
public interface SpamtrapMetrics {
    SpamtrapMetrics NONE = new SpamtrapMetrics() {
        @Override
        public void hit(String trapKind) {
        }

        @Override
        public void refusal(String how) {
        }
    };

    /** A client sent to a trap; {@code trapKind} is {@code address}, {@code domain} or {@code regex}. */
    void hit(String trapKind);

    /** A listed offender was turned away at connect time; {@code how} is {@code refuse}, {@code tarpit} or {@code tarpit-full}. */
    void refusal(String how);

    /** A bounce or auto-reply (null sender) reached a trap: evidence, nobody listed. */
    default void backscatter() {
    }

    /**
     * A protocol sensor caught a client; {@code action} is {@code tarpit}, {@code refuse} or {@code observe} (recorded,
     * would have been refused, nothing done).
     */
    default void protocol(String sensor, String action) {
    }

    /**
     * An observed listing (a sensor in observe mode) met its client again: it would have been refused or tarpitted,
     * and was let through. {@code cause} is the listing's cause label, e.g. {@code observe:protocol:pregreet}.
     */
    default void wouldRefuse(String cause) {
    }

    /**
     * A client on a loaded list was turned away ({@code how}: {@code refuse}, {@code tarpit}, {@code tarpit-full}) or, for
     * a list that only observes, let through ({@code observe}). Counted besides {@link #refusal} / {@link #wouldRefuse}.
     */
    default void listRefusal(String list, String how) {
    }

    /** An exempt client sent to a trap; {@code why} is {@code authenticated}, {@code relay-authorized} or {@code allowlisted}. */
    default void exemptHit(String why) {
    }
}
