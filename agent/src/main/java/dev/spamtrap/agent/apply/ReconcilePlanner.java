package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.backend.Op;
import dev.spamtrap.agent.net.Prefix;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Works out what a snapshot of the store means for the sets, by difference: it changes the given view in place
 * to what the firewall should hold and lists the ops that take the kernel there. The same rails as live commands:
 * lifetime cap, overlaps resolved in favour of the broader prefix, and the circuit breaker's limit counted per
 * minute of recording: of the prefixes new to the firewall that the store recorded within one minute, at most
 * {@code maxPerMinute} are admitted, those already blocked counting first. State built up over days is restored
 * whole; a flood recorded in one minute is held back on every path, and catching up never uses the live
 * commands' budget.
 * <p>
 * It runs over a million entries with a 1 % difference in well under a second: entries already in the view with
 * the same lifetime cost one hash lookup and nothing else (no copy of the view, no object per entry); only new
 * entries are ordered (broader first, so that narrower ones are seen as covered) and counted by minute.
 */
final class ReconcilePlanner {
    /** Lifetimes closer than this to the view's are left alone (no refresh op). */
    static final long REFRESH_TOLERANCE_MILLIS = 60_000;

    static final class Plan {
        /** Removals first: a broader prefix may replace narrower ones in an interval set. */
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
    private int rounds;

    ReconcilePlanner(long maxTtlSeconds, int maxPerMinute) {
        this.maxTtlSeconds = maxTtlSeconds;
        this.maxPerMinute = maxPerMinute;
    }

    Plan plan(List<Wanted> snapshot, BlockTable view, long now, long keepChangedSince, boolean withOps) {
        return plan(Snapshot.of(snapshot), view, now, keepChangedSince, withOps);
    }

    /**
     * @param snapshot         what the store wants (after the address rails); a prefix may appear more than once, the
     *                         later lifetime wins; expired ones are ignored
     * @param view             the agent's view of the sets, changed in place into the next view (an empty one for a full rebuild)
     * @param keepChangedSince entries of the view changed live at or after this (while the store was being read) stay,
     *                         never shortened by the snapshot
     * @param withOps          false for a full rebuild, which needs only the next view (no op object per entry)
     */
    Plan plan(Snapshot snapshot, BlockTable view, long now, long keepChangedSince, boolean withOps) {
        Plan plan = new Plan();
        rounds = rounds % BlockTable.ROUNDS + 1; // 1 .. ROUNDS, as the view keeps them
        int round = rounds;
        long cap = now + maxTtlSeconds * 1000;
        List<Op> changes = new ArrayList<>();
        // Only a broader entry that stays after this reconcile covers another: one the snapshot names (seen in this
        // round) or one changed live during the load. A broader entry the snapshot no longer names leaves in step 4,
        // and what it covered must then be in the kernel on its own.
        java.util.function.Predicate<BlockTable.Entry> stays = e -> e.seen == round || e.changedAt >= keepChangedSince;
        // 1. entries already in the view: marked as seen, refreshed when their lifetime moved; their minutes are noted for the breaker
        List<List<Wanted>> fresh = new ArrayList<>();
        long[] knownMinutes = new long[Math.min(snapshot.size(), view.size()) + 1];
        int known = 0;
        // 1a. single IPv4 addresses, by their bits and the view's slot: no object per entry
        KnownHosts pass = new KnownHosts(snapshot, view, plan, round, now, cap, keepChangedSince, withOps ? changes : null, knownMinutes);
        for (int i = 0, n = snapshot.hostCount(); i < n; i++) {
            pass.visit(i);
        }
        known = pass.known;
        int[] freshHosts = pass.fresh;
        int freshHostCount = pass.freshCount;
        // 1b. every other prefix
        for (Wanted w : snapshot.others) {
            if (w.expiresAt <= now) {
                continue;
            }
            Prefix p = w.prefix;
            BlockTable.Entry old = view.markSeen(p, round, now); // one lookup: marks it and gives what it held before
            if (old == null) {
                while (fresh.size() <= p.length()) {
                    fresh.add(new ArrayList<>());
                }
                fresh.get(p.length()).add(w);
                continue;
            }
            long exp = capped(w.expiresAt, cap, plan);
            boolean again = old.seen == round;
            if (again || old.changedAt >= keepChangedSince) {
                exp = Math.max(exp, old.expiresAt); // a duplicate, or a live change: the later lifetime wins
            } else {
                knownMinutes[known++] = w.recordedAt / 60_000;
            }
            if (Math.abs(old.expiresAt - exp) > REFRESH_TOLERANCE_MILLIS) {
                view.put(p, exp, old.changedAt, round);
                if (withOps) {
                    changes.add(Op.refresh(p, ttl(exp, now)));
                }
                if (!again) {
                    plan.refreshed++; // counts entries, not ops: a duplicate may add a second refresh
                }
            } else if (!again) {
                plan.kept++;
            }
        }
        // 2. the breaker's budget matters only in minutes where something new was recorded: count just those
        MinuteBudget budget = new MinuteBudget(fresh, snapshot, freshHosts, freshHostCount, knownMinutes, known, maxPerMinute);
        // 3. new entries, broader first: every other prefix by length (IPv4 and IPv6 lengths share buckets, which
        // changes nothing: no overlap across families), then the single IPv4 addresses, the narrowest of all
        boolean broadened = false;
        for (List<Wanted> bucket : fresh) {
            for (Wanted w : bucket) {
                Prefix p = w.prefix;
                BlockTable.Entry twin = view.get(p, now);
                if (twin != null) {
                    // the same prefix twice in the snapshot, both new: one add, with the later lifetime
                    long exp = Math.min(w.expiresAt, cap);
                    if (exp > twin.expiresAt) {
                        view.put(p, exp, 0, round);
                        if (withOps) {
                            changes.add(Op.refresh(p, ttl(exp, now)));
                        }
                    }
                    continue;
                }
                if (view.covering(p, now, stays) != null) {
                    plan.covered++;
                    continue;
                }
                if (!budget.admit(w.recordedAt / 60_000)) {
                    plan.held++;
                    if (plan.heldSample.size() < 10) {
                        plan.heldSample.add(p);
                    }
                    continue;
                }
                long exp = capped(w.expiresAt, cap, plan);
                view.put(p, exp, 0, round);
                if (withOps) {
                    changes.add(Op.add(p, ttl(exp, now)));
                }
                plan.added++;
                broadened |= !p.isHost();
            }
        }
        boolean networks4 = view.hasIpv4Networks();
        for (int f = 0; f < freshHostCount; f++) {
            int i = freshHosts[f];
            int address = snapshot.host(i);
            int twin = view.findHost4(address);
            if (twin >= 0) {
                // the same address twice in the snapshot, both new: one add, with the later lifetime
                long exp = Math.min(snapshot.hostExpires(i), cap);
                if (exp > view.host4Expires(twin)) {
                    view.setHost4(twin, exp, round);
                    if (withOps) {
                        changes.add(Op.refresh(Prefix.ipv4Host(address), ttl(exp, now)));
                    }
                }
                continue;
            }
            if (networks4 && view.covering(Prefix.ipv4Host(address), now, stays) != null) {
                plan.covered++;
                continue;
            }
            if (!budget.admit(snapshot.hostRecorded(i) / 60_000)) {
                plan.held++;
                if (plan.heldSample.size() < 10) {
                    plan.heldSample.add(Prefix.ipv4Host(address));
                }
                continue;
            }
            long exp = capped(snapshot.hostExpires(i), cap, plan);
            view.putHost4(address, exp, 0, round);
            if (withOps) {
                changes.add(Op.add(Prefix.ipv4Host(address), ttl(exp, now)));
            }
            plan.added++;
        }
        // 4. sweep: what the snapshot did not name leaves the view (unless changed live during the load), and so
        // does what a new broader prefix now covers
        List<Prefix> leaving = new ArrayList<>();
        java.util.Set<Prefix> coveredKnown = new java.util.HashSet<>();
        boolean anyBroadened = broadened;
        view.forEach(entry -> {
            if (entry.expiresAt <= now) {
                leaving.add(entry.prefix()); // gone from the kernel by its own timeout: no op
                return;
            }
            if (entry.seen != round) {
                if (entry.changedAt < keepChangedSince) {
                    Prefix p = entry.prefix();
                    leaving.add(p);
                    if (withOps) {
                        plan.ops.add(Op.remove(p));
                    }
                    plan.removed++;
                    return;
                }
                entry.markSeen(round);
                plan.kept++;
            }
            if (anyBroadened) {
                Prefix p = entry.prefix();
                if (view.covering(p, now, stays) != null) {
                    leaving.add(p);
                    coveredKnown.add(p);
                    if (withOps) {
                        plan.ops.add(Op.remove(p));
                    }
                    plan.covered++;
                }
            }
        });
        for (Prefix p : leaving) {
            view.remove(p);
        }
        if (!coveredKnown.isEmpty()) {
            // known entries a new broader prefix covers were counted as kept or refreshed in step 1: they leave instead
            int refreshOps = changes.size();
            changes.removeIf(op -> op.kind() == Op.Kind.REFRESH && coveredKnown.contains(op.prefix()));
            int dropped = refreshOps - changes.size();
            plan.refreshed -= dropped;
            plan.kept -= coveredKnown.size() - dropped;
        }
        plan.ops.addAll(changes);
        return plan;
    }

    /**
     * Step 1 for the single IPv4 addresses, one {@link #visit} per address. A method of its own, so that the JIT
     * compiles it fully after a few thousand addresses of the first reconcile and keeps it: as part of {@code plan}
     * (one call per reconcile, the loop compiled on the stack and thrown away when a branch first taken) the
     * benchmark's second reconcile ran this loop mostly in profiling code, 0.14-0.16 s for 1,000,000 instead of 0.05 s.
     */
    private final class KnownHosts {
        private final Snapshot snapshot;
        private final BlockTable view;
        private final Plan plan;
        private final int round;
        private final long now;
        private final long cap;
        private final long keepChangedSince;
        /** Where refresh ops go; null when no ops are wanted. */
        private final List<Op> changes;
        private final long[] knownMinutes;
        int known;
        /** Indexes (into the snapshot's addresses) of those not in the view, in snapshot order. */
        final int[] fresh;
        int freshCount;

        KnownHosts(Snapshot snapshot, BlockTable view, Plan plan, int round, long now, long cap, long keepChangedSince, List<Op> changes,
                   long[] knownMinutes) {
            this.snapshot = snapshot;
            this.view = view;
            this.plan = plan;
            this.round = round;
            this.now = now;
            this.cap = cap;
            this.keepChangedSince = keepChangedSince;
            this.changes = changes;
            this.knownMinutes = knownMinutes;
            // room for every address: a branch that grows it, never taken in one reconcile and taken in the next,
            // made the JIT throw the compiled method away in the middle of the second (measured)
            this.fresh = new int[snapshot.hostCount()];
        }

        void visit(int i) {
            long wantedExp = snapshot.hostExpires(i);
            if (wantedExp <= now) {
                return;
            }
            int address = snapshot.host(i);
            int at = view.findHost4(address);
            if (at >= 0 && view.host4Expires(at) <= now) {
                view.remove(Prefix.ipv4Host(address)); // gone from the kernel by its own timeout
                at = -1;
            }
            if (at < 0) {
                fresh[freshCount++] = i;
                return;
            }
            long oldExp = view.host4Expires(at);
            boolean again = view.host4Seen(at) == round;
            long exp = capped(wantedExp, cap, plan);
            if (again || view.host4ChangedAt(at) >= keepChangedSince) {
                exp = Math.max(exp, oldExp); // a duplicate, or a live change: the later lifetime wins
            } else {
                knownMinutes[known++] = snapshot.hostRecorded(i) / 60_000;
            }
            if (Math.abs(oldExp - exp) > REFRESH_TOLERANCE_MILLIS) {
                view.setHost4(at, exp, round);
                if (changes != null) {
                    changes.add(Op.refresh(Prefix.ipv4Host(address), ttl(exp, now)));
                }
                if (!again) {
                    plan.refreshed++; // counts entries, not ops: a duplicate may add a second refresh
                }
            } else {
                view.setHost4Seen(at, round);
                if (!again) {
                    plan.kept++;
                }
            }
        }
    }

    private long capped(long expiresAt, long cap, Plan plan) {
        if (expiresAt > cap) {
            plan.capped++;
            return cap;
        }
        return expiresAt;
    }

    private static long ttl(long expiresAt, long now) {
        return (expiresAt - now + 999) / 1000;
    }

    /** Per minute that holds a new entry: how many more the breaker lets in, those already blocked counted first. */
    private static final class MinuteBudget {
        private final long[] minutes;
        private final int[] left;

        MinuteBudget(List<List<Wanted>> fresh, Snapshot snapshot, int[] freshHosts, int freshHostCount, long[] knownMinutes, int known,
                     int maxPerMinute) {
            long[] all = new long[fresh.stream().mapToInt(List::size).sum() + freshHostCount];
            int n = 0;
            for (List<Wanted> bucket : fresh) {
                for (Wanted w : bucket) {
                    all[n++] = w.recordedAt / 60_000;
                }
            }
            for (int f = 0; f < freshHostCount; f++) {
                all[n++] = snapshot.hostRecorded(freshHosts[f]) / 60_000;
            }
            Arrays.sort(all);
            int distinct = 0;
            for (int i = 0; i < n; i++) {
                if (i == 0 || all[i] != all[i - 1]) {
                    all[distinct++] = all[i];
                }
            }
            minutes = Arrays.copyOf(all, distinct);
            left = new int[distinct];
            Arrays.fill(left, maxPerMinute);
            long first = distinct == 0 ? Long.MAX_VALUE : minutes[0];
            long last = distinct == 0 ? Long.MIN_VALUE : minutes[distinct - 1];
            for (int i = 0; i < known; i++) {
                if (knownMinutes[i] < first || knownMinutes[i] > last) {
                    continue; // most known entries were recorded in other minutes than anything new: no search
                }
                int at = Arrays.binarySearch(minutes, knownMinutes[i]);
                if (at >= 0) {
                    left[at]--;
                }
            }
        }

        boolean admit(long minute) {
            int at = Arrays.binarySearch(minutes, minute);
            if (left[at] <= 0) {
                return false;
            }
            left[at]--;
            return true;
        }
    }
}
