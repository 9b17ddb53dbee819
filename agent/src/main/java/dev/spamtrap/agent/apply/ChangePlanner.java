package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.backend.Op;
import dev.spamtrap.agent.net.Prefix;
import dev.spamtrap.agent.safety.CircuitBreaker;

import java.util.Map;

/**
 * Turns a live command into ops against the agent's view of the sets, applying the rails that depend on that
 * view: lifetime cap, "already inside a broader block", narrower blocks replaced by a broader one, and the
 * circuit breaker for blocks new to the firewall. Updates the view as if the ops succeeded; the applier
 * undoes a change whose ops fail.
 * <p>
 * Until the agent knows what the kernel holds (just started, its sets not yet read back nor rebuilt), its view
 * holds only what it put there since the start. A block new to that view is an add, which never fails on an
 * element already there (if the kernel kept an older, shorter timeout, the read-back's merge refreshes it);
 * nothing is removed on the view's word except the exact element an UNBLOCK names. An element that overlaps one
 * the agent does not know about makes that one change fail, alone.
 */
final class ChangePlanner {
    private final BlockTable table;
    private final CircuitBreaker breaker;
    private final long maxTtlSeconds;
    private final Map<Prefix, Long> recentUnblocks;

    ChangePlanner(BlockTable table, CircuitBreaker breaker, long maxTtlSeconds, Map<Prefix, Long> recentUnblocks) {
        this.table = table;
        this.breaker = breaker;
        this.maxTtlSeconds = maxTtlSeconds;
        this.recentUnblocks = recentUnblocks;
    }

    void plan(Change c, long now) {
        Prefix p = c.prefix;
        c.before = table.get(p, now);
        c.planned = true;
        if (c.action == Applier.Action.UNBLOCK) {
            recentUnblocks.put(p, now);
            Prefix cover = table.covering(p, now);
            if (table.remove(p)) {
                c.ops.add(Op.remove(p));
                c.outcome = Outcome.applied("unblocked");
            } else if (cover != null) {
                c.outcome = Outcome.applied("not blocked by itself; it lies inside the blocked prefix " + cover + ", which stays blocked");
            } else {
                c.ops.add(Op.remove(p)); // harmless if absent; clears an entry the agent did not know about
                c.outcome = Outcome.applied("not blocked (removed if present)");
            }
            return;
        }
        long ttl = Math.min(c.ttlSeconds, maxTtlSeconds);
        long expiresAt = now + ttl * 1000;
        String unit = ttl < c.ttlSeconds ? " s (capped at " + maxTtlSeconds + " s: block.maxLifetime or the backend's longest timeout)" : " s";
        if (table.get(p, now) != null) {
            c.ops.add(Op.refresh(p, ttl));
            table.put(p, expiresAt, now);
            c.outcome = Outcome.applied("block refreshed for ", ttl, unit);
            return;
        }
        Prefix cover = table.covering(p, now);
        if (cover != null) {
            c.outcome = Outcome.applied("already blocked as part of " + cover);
            return;
        }
        if (!breaker.tryAdmit(p)) {
            c.outcome = Outcome.refused("circuit breaker open: more than " + breaker.maxPerMinute() + " new blocks per minute; " + p + " not blocked");
            return;
        }
        for (Prefix inner : table.contained(p, now)) {
            c.ops.add(Op.remove(inner));
            table.remove(inner);
        }
        c.ops.add(Op.add(p, ttl));
        table.put(p, expiresAt, now);
        c.outcome = Outcome.applied("blocked for ", ttl, unit);
    }
}
