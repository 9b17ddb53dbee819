package dev.spamtrap.core.offender;

import java.time.Clock;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The local, in-memory picture of active offenders that the connect-time check reads: a hash lookup,
 * never a Cassandra round trip. It is filled from Cassandra at start, refreshed periodically (so hits
 * recorded by other James nodes arrive here too), and updated at once by this node's own hits.
 *
 * <p>Entries this node recorded but Cassandra has not confirmed yet are kept apart in {@code pending},
 * so a refresh that ran before the write landed cannot drop them.
 */
public final class OffenderView {
    private final Clock clock;
    private volatile Map<String, Offender> confirmed = new ConcurrentHashMap<>();
    private final Map<String, Offender> pending = new ConcurrentHashMap<>();

    public OffenderView(Clock clock) {
        this.clock = clock;
    }

    /** The active record for a normalised IP literal, if any. Lock-free; safe on an event loop. */
    public Optional<Offender> active(String ip) {
        var now = clock.instant();
        Offender o = pending.get(ip);
        if (o != null && o.isActiveAt(now)) {
            return Optional.of(o);
        }
        o = confirmed.get(ip);
        if (o != null && o.isActiveAt(now)) {
            return Optional.of(o);
        }
        return Optional.empty();
    }

    /** This node saw a hit; the store has not confirmed it yet. */
    public void putPending(Offender offender) {
        pending.merge(offender.ip(), offender, OffenderView::later);
    }

    /** The store confirmed (or another node wrote) this record. */
    public void putConfirmed(Offender offender) {
        confirmed.merge(offender.ip(), offender, OffenderView::later);
        pending.computeIfPresent(offender.ip(), (ip, p) -> p.expiresAt().isAfter(offender.expiresAt()) ? p : null);
    }

    public void remove(String ip) {
        confirmed.remove(ip);
        pending.remove(ip);
    }

    /** Replaces the confirmed part with a full snapshot read from the store. */
    public void replaceConfirmed(Collection<Offender> snapshot) {
        Map<String, Offender> next = new ConcurrentHashMap<>();
        for (Offender o : snapshot) {
            next.merge(o.ip(), o, OffenderView::later);
        }
        confirmed = next;
        var now = clock.instant();
        pending.values().removeIf(p -> !p.isActiveAt(now));
    }

    public int size() {
        return confirmed.size() + pending.size();
    }

    private static Offender later(Offender a, Offender b) {
        return b.expiresAt().isAfter(a.expiresAt()) ? b : a;
    }
}
