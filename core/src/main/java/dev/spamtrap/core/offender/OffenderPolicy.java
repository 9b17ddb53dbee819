package dev.spamtrap.core.offender;

import java.time.Duration;
import java.time.Instant;

/**
 * How long an offender stays listed: {@code lifetime} for a first hit, doubled for every further hit
 * remembered in the history, never more than {@code maxLifetime}. The history itself is kept for
 * {@code historyLifetime}, so a client that stays clean that long starts again from the base lifetime.
 */
public final class OffenderPolicy {
    private final Duration lifetime;
    private final Duration maxLifetime;
    private final Duration historyLifetime;

    public OffenderPolicy(Duration lifetime, Duration maxLifetime, Duration historyLifetime) {
        if (lifetime.getSeconds() < 1) {
            throw new IllegalArgumentException("lifetime must be at least 1 second");
        }
        if (maxLifetime.compareTo(lifetime) < 0) {
            throw new IllegalArgumentException("maxLifetime (" + maxLifetime + ") is shorter than lifetime (" + lifetime + ")");
        }
        this.lifetime = lifetime;
        this.maxLifetime = maxLifetime;
        this.historyLifetime = historyLifetime.compareTo(maxLifetime) < 0 ? maxLifetime : historyLifetime;
    }

    /** Lifetime of the {@code hitCount}-th hit (1 for a first offender). */
    public Duration lifetimeFor(int hitCount) {
        Duration d = lifetime;
        for (int i = 1; i < hitCount; i++) {
            d = d.multipliedBy(2);
            if (d.compareTo(maxLifetime) >= 0) {
                return maxLifetime;
            }
        }
        return d;
    }

    /**
     * The record a hit produces, given the previous hit count and first-hit time (from the history;
     * {@code previousHits} 0 when there is none).
     */
    public Offender apply(TrapHit hit, int previousHits, Instant previousFirstHit) {
        int count = previousHits + 1;
        Instant first = previousHits > 0 && previousFirstHit != null ? previousFirstHit : hit.at();
        return new Offender(hit.key(), first, hit.at(), count, hit.trap(), hit.helo(), hit.mailFrom(), hit.node(),
            hit.at().plus(lifetimeFor(count)));
    }

    /**
     * When a client is listed until, derived from every hit of it still remembered (any order, duplicates
     * allowed): the first hit lists it for {@code lifetime}; a hit after that listing expired is a repeat
     * offence and lists it for {@code lifetime x 2^repeats} (capped); hits while still listed change
     * nothing. Deterministic in the set of hits, so replays and concurrent nodes agree.
     */
    public Instant listedUntil(java.util.Collection<Instant> hitTimes) {
        return walk(hitTimes).until;
    }

    /** Repeat offences in a set of hits (see {@link #listedUntil}). */
    public int repeatOffences(java.util.Collection<Instant> hitTimes) {
        return walk(hitTimes).repeats;
    }

    /** Where walking the hits in time order ends: the listing's end and the repeat offences on the way. */
    private static final class Walk {
        Instant until;
        int repeats;
    }

    private Walk walk(java.util.Collection<Instant> hitTimes) {
        java.util.List<Instant> sorted = new java.util.ArrayList<>(hitTimes);
        java.util.Collections.sort(sorted);
        Walk w = new Walk();
        for (Instant at : sorted) {
            if (w.until == null) {
                w.until = at.plus(lifetimeFor(1));
            } else if (!at.isBefore(w.until)) {
                w.repeats++;
                w.until = at.plus(lifetimeFor(w.repeats + 1));
            }
        }
        return w;
    }

    public Duration lifetime() { return lifetime; }
    public Duration maxLifetime() { return maxLifetime; }
    public Duration historyLifetime() { return historyLifetime; }
}
