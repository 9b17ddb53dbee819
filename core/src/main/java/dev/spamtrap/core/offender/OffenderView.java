package dev.spamtrap.core.offender;

import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.net.OffenderKeys;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The local, in-memory picture of active offenders that the connect-time check reads: hash lookups,
 * never a Cassandra round trip. It is filled from Cassandra at start, refreshed periodically (so hits
 * recorded by other James nodes arrive here too), and updated at once by this node's own hits.
 *
 * <p>Offenders are keyed as {@link OffenderKeys} spells them: an IPv4 address, or an IPv6 prefix (a /64 by
 * default, since one host owns a whole /64). Rows with any other prefix (an administrator's
 * {@code INSERT ... ip = '192.0.2.0/24'}) are also honoured, by a scan of that short list.
 *
 * <p>Entries this node recorded but Cassandra has not confirmed yet are kept apart in {@code pending},
 * so a refresh that ran before the write landed cannot drop them.
 */
public final class OffenderView {
    private final Clock clock;
    private final OffenderKeys keys;
    private volatile Map<String, Offender> confirmed = new ConcurrentHashMap<>();
    private final Map<String, Offender> pending = new ConcurrentHashMap<>();
    private volatile List<Ranged> ranges = List.of();

    private static final class Ranged {
        final CidrRange range;
        final Offender offender;

        Ranged(CidrRange range, Offender offender) {
            this.range = range;
            this.offender = offender;
        }
    }

    public OffenderView(Clock clock) {
        this(clock, OffenderKeys.DEFAULT);
    }

    public OffenderView(Clock clock, OffenderKeys keys) {
        this.clock = clock;
        this.keys = keys;
    }

    /** The active record for an offender key (as written in Cassandra), if any. Lock-free. */
    public Optional<Offender> active(String key) {
        Instant now = clock.instant();
        Offender o = pending.get(key);
        if (o != null && o.isActiveAt(now)) {
            return Optional.of(o);
        }
        o = confirmed.get(key);
        if (o != null && o.isActiveAt(now)) {
            return Optional.of(o);
        }
        return Optional.empty();
    }

    /** The active record covering a client address: its own key, then any other listed prefix. Lock-free. */
    public Optional<Offender> active(InetAddress client) {
        Optional<Offender> own = active(keys.keyOf(client));
        if (own.isPresent()) {
            return own;
        }
        List<Ranged> rs = ranges;
        if (rs.isEmpty()) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        byte[] raw = client.getAddress();
        for (Ranged r : rs) {
            if (r.offender.isActiveAt(now) && r.range.contains(raw)) {
                return Optional.of(r.offender);
            }
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
        if (isOtherRange(offender.ip())) {
            rebuildRanges();
        }
    }

    public void remove(String key) {
        confirmed.remove(key);
        pending.remove(key);
        if (isOtherRange(key)) {
            rebuildRanges();
        }
    }

    /** Replaces the confirmed part with a full snapshot read from the store. */
    public void replaceConfirmed(Collection<Offender> snapshot) {
        Map<String, Offender> next = new ConcurrentHashMap<>();
        for (Offender o : snapshot) {
            next.merge(o.ip(), o, OffenderView::later);
        }
        confirmed = next;
        Instant now = clock.instant();
        pending.values().removeIf(p -> !p.isActiveAt(now));
        rebuildRanges();
    }

    /** A prefix row the hash lookup of {@link OffenderKeys#keyOf} would not find. */
    private boolean isOtherRange(String key) {
        return key.indexOf('/') >= 0 && !keys.isOwnKey(key);
    }

    private synchronized void rebuildRanges() {
        List<Ranged> next = new ArrayList<>();
        for (Offender o : confirmed.values()) {
            if (isOtherRange(o.ip())) {
                try {
                    next.add(new Ranged(CidrRange.parse(o.ip()), o));
                } catch (IllegalArgumentException e) {
                    // a malformed row never matches anyone
                }
            }
        }
        ranges = List.copyOf(next);
    }

    private static Offender later(Offender a, Offender b) {
        return b.expiresAt().isAfter(a.expiresAt()) ? b : a;
    }
}
