package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.backend.Op;
import dev.spamtrap.agent.net.Prefix;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Works out what a snapshot of the store means for the sets: the next view and the difference from the
 * current one (ops). The same rails as live commands: lifetime cap, overlaps resolved in favour of the broader
 * prefix, and the circuit breaker's limit, counted per minute of recording: of the prefixes new to the firewall
 * that the store recorded within one minute, at most {@code maxPerMinute} are admitted (those already blocked
 * count first). State built up over days is restored whole; a flood recorded in one minute is held back on
 * every path, and catching up never uses the live commands' budget.
 */
final class ReconcilePlanner {
    /** Lifetimes closer than this to the view's are left alone (no refresh op). */
    static final long REFRESH_TOLERANCE_MILLIS = 60_000;

    static final class Plan {
        final BlockTable next = new BlockTable();

        /** Remaining lifetimes (seconds) of the next view, for a full rebuild. */
        Map<Prefix, Long> ttls(long now) {
            Map<Prefix, Long> out = new HashMap<>(next.size() * 2);
            next.entries().forEach((p, e) -> out.put(p, (e.expiresAt - now + 999) / 1000));
            return out;
        }
        final List<Op> ops = new ArrayList<>();
        int added;
        int removed;
        int refreshed;
        int kept;
        int covered;
        int held;
        int capped;
        final List<Prefix> heldSample = new ArrayList<>();
    }

    private final long maxTtlSeconds;
    private final int maxPerMinute;

    ReconcilePlanner(long maxTtlSeconds, int maxPerMinute) {
        this.maxTtlSeconds = maxTtlSeconds;
        this.maxPerMinute = maxPerMinute;
    }

    /**
     * @param desired     what the store wants (after the address rails), merged with live changes made during the load
     * @param current     the agent's view of the sets
     */
    Plan plan(Map<Prefix, Wanted> desired, BlockTable current, long now) {
        return plan(desired, current, now, true);
    }

    /** {@code withOps} false for a full rebuild, which needs only the next view (no op object per entry). */
    Plan plan(Map<Prefix, Wanted> desired, BlockTable current, long now, boolean withOps) {
        Plan plan = new Plan();
        long cap = now + maxTtlSeconds * 1000;
        // broader first (so narrower ones are seen as covered); within a length, those already blocked first (they use a
        // minute's budget before new ones). Buckets, not a sort: this runs over a million entries.
        List<List<Prefix>> buckets = new ArrayList<>();
        for (int i = 0; i < 2 * 129; i++) {
            buckets.add(new ArrayList<>());
        }
        // the breaker's budget matters only in minutes where something new was recorded: count just those
        // (a map keyed by every minute of a million entries would cost more than the whole plan)
        java.util.Set<Long> newMinutes = new java.util.HashSet<>();
        for (Map.Entry<Prefix, Wanted> e : desired.entrySet()) {
            boolean known = current.get(e.getKey(), now) != null;
            buckets.get(2 * e.getKey().length() + (known ? 0 : 1)).add(e.getKey());
            if (!known) {
                newMinutes.add(e.getValue().recordedAt / 60_000);
            }
        }
        Map<Long, Integer> perMinute = new HashMap<>();
        for (int b = 0; b < buckets.size(); b++) {
          boolean known = b % 2 == 0;
          for (Prefix p : buckets.get(b)) {
            if (plan.next.covering(p, now) != null) {
                plan.covered++;
                continue;
            }
            Wanted w = desired.get(p);
            BlockTable.Entry old = known ? current.entries().get(p) : null;
            long minute = w.recordedAt / 60_000;
            if (newMinutes.contains(minute)) {
                int used = perMinute.merge(minute, 1, Integer::sum);
                if (old == null && used > maxPerMinute) {
                    plan.held++;
                    if (plan.heldSample.size() < 10) {
                        plan.heldSample.add(p);
                    }
                    continue;
                }
            }
            long exp = w.expiresAt;
            if (exp > cap) {
                exp = cap;
                plan.capped++;
            }
            long ttl = (exp - now + 999) / 1000;
            if (old != null && old.expiresAt == exp) {
                plan.next.put(p, old); // no new object per unchanged entry: this runs over a million
            } else {
                plan.next.put(p, exp, old != null ? old.changedAt : 0);
            }
            if (old == null) {
                if (withOps) {
                    plan.ops.add(Op.add(p, ttl));
                }
                plan.added++;
            } else if (Math.abs(old.expiresAt - exp) > REFRESH_TOLERANCE_MILLIS) {
                if (withOps) {
                    plan.ops.add(Op.refresh(p, ttl));
                }
                plan.refreshed++;
            } else {
                plan.kept++;
            }
          }
        }
        List<Op> removals = new ArrayList<>();
        for (Prefix p : current.entries().keySet()) {
            if (plan.next.entries().get(p) == null) {
                removals.add(Op.remove(p));
                plan.removed++;
            }
        }
        // removals first: a broader prefix may replace narrower ones in an interval set
        removals.addAll(plan.ops);
        plan.ops.clear();
        plan.ops.addAll(removals);
        return plan;
    }
}
