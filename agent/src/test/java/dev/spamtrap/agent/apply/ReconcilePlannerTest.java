package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.backend.Op;
import dev.spamtrap.agent.net.Prefix;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

class ReconcilePlannerTest {
    static final long NOW = 1_000_000_000_000L;
    static final long HOUR = 3_600_000;
    /** No entry of the view counts as changed live during the load. */
    static final long NONE_LIVE = Long.MAX_VALUE;

    static Prefix p(String s) {
        return Prefix.parse(s);
    }

    static Set<String> ops(ReconcilePlanner.Plan plan) {
        return plan.ops.stream().map(Op::toString).collect(Collectors.toSet());
    }

    @Test
    void onlyTheDifferenceBecomesOpsAndTheViewIsChangedInPlace() {
        BlockTable view = new BlockTable();
        view.put(p("192.0.2.1"), NOW + HOUR, 5);
        view.put(p("192.0.2.2"), NOW + HOUR, 5);
        view.put(p("192.0.2.3"), NOW + HOUR, 5);
        view.put(p("192.0.2.9"), NOW - 1, 5); // already expired in the kernel
        List<Wanted> desired = new ArrayList<>();
        desired.add(new Wanted(p("192.0.2.1"), NOW + HOUR + 10_000, 0)); // within tolerance: kept
        desired.add(new Wanted(p("192.0.2.2"), NOW + 3 * HOUR, 0));     // refreshed
        desired.add(new Wanted(p("192.0.2.4"), NOW + HOUR, 0));         // added
        ReconcilePlanner.Plan plan = new ReconcilePlanner(86_400, 100).plan(desired, view, NOW, NONE_LIVE, true);

        assertThat(ops(plan)).containsExactlyInAnyOrder("REMOVE 192.0.2.3", "REFRESH 192.0.2.2 10800s", "ADD 192.0.2.4 3600s");
        assertThat(plan.ops.get(0).kind()).isEqualTo(Op.Kind.REMOVE);
        assertThat(new int[] {plan.added, plan.removed, plan.refreshed, plan.kept}).containsExactly(1, 1, 1, 1);
        assertThat(view.prefixes()).containsExactlyInAnyOrder(p("192.0.2.1"), p("192.0.2.2"), p("192.0.2.4"));
        assertThat(view.get(p("192.0.2.1"), NOW).expiresAt).as("kept entries keep the kernel's lifetime").isEqualTo(NOW + HOUR);
        assertThat(view.get(p("192.0.2.2"), NOW).changedAt).as("the last live change is kept, to the second rounded up").isEqualTo(1000);
    }

    @Test
    void aNewBroaderPrefixReplacesTheNarrowerOnesAndNewNarrowerOnesInsideItAreCovered() {
        BlockTable view = new BlockTable();
        view.put(p("198.51.100.7"), NOW + HOUR, 0);
        view.put(p("198.51.100.8"), NOW + HOUR, 0);
        List<Wanted> desired = new ArrayList<>();
        desired.add(new Wanted(p("198.51.100.7"), NOW + HOUR, 0));
        desired.add(new Wanted(p("198.51.100.8"), NOW + 5 * HOUR, 0)); // would be refreshed, but is covered
        desired.add(new Wanted(p("198.51.100.0/24"), NOW + HOUR, 0));
        desired.add(new Wanted(p("198.51.100.9"), NOW + HOUR, 0));
        ReconcilePlanner.Plan plan = new ReconcilePlanner(86_400, 100).plan(desired, view, NOW, NONE_LIVE, true);

        assertThat(ops(plan)).containsExactlyInAnyOrder("REMOVE 198.51.100.7", "REMOVE 198.51.100.8", "ADD 198.51.100.0/24 3600s");
        assertThat(new int[] {plan.added, plan.covered, plan.refreshed, plan.kept}).containsExactly(1, 3, 0, 0);
        assertThat(view.prefixes()).containsExactly(p("198.51.100.0/24"));
    }

    @Test
    void theBreakerCountsKnownEntriesOfAMinuteFirstAndHoldsBackTheNewOnesBeyondItsLimit() {
        long minute = 42 * 60_000L;
        BlockTable view = new BlockTable();
        view.put(p("203.0.113.1"), NOW + HOUR, 0);
        List<Wanted> desired = new ArrayList<>();
        desired.add(new Wanted(p("203.0.113.1"), NOW + HOUR, minute));
        for (int i = 2; i <= 10; i++) {
            desired.add(new Wanted(p("203.0.113." + i), NOW + HOUR, minute + i));
        }
        desired.add(new Wanted(p("203.0.113.50"), NOW + HOUR, minute + 60_000)); // another minute
        ReconcilePlanner.Plan plan = new ReconcilePlanner(86_400, 3).plan(desired, view, NOW, NONE_LIVE, true);

        assertThat(plan.added).as("2 of the first minute (1 already blocked) + 1 of the next").isEqualTo(3);
        assertThat(plan.held).isEqualTo(7);
        assertThat(plan.heldSample).hasSize(7);
        assertThat(view.size()).isEqualTo(4);
    }

    @Test
    void lifetimesAreCappedOnEveryEntry() {
        List<Wanted> desired = List.of(new Wanted(p("2001:db8:1:2::/64"), NOW + 100 * HOUR, 0));
        BlockTable view = new BlockTable();
        ReconcilePlanner.Plan plan = new ReconcilePlanner(3600, 100).plan(desired, view, NOW, NONE_LIVE, true);
        assertThat(ops(plan)).containsExactly("ADD 2001:db8:1:2:0:0:0:0/64 3600s");
        assertThat(plan.capped).isEqualTo(1);
    }

    @Test
    void aPrefixNamedTwiceGetsOneAddWithTheLaterLifetime() {
        List<Wanted> desired = List.of(new Wanted(p("192.0.2.5"), NOW + HOUR, 0), new Wanted(p("192.0.2.5"), NOW + 2 * HOUR, 0),
            new Wanted(p("192.0.2.6"), NOW + 2 * HOUR, 0), new Wanted(p("192.0.2.6"), NOW + HOUR, 0));
        BlockTable view = new BlockTable();
        ReconcilePlanner.Plan plan = new ReconcilePlanner(86_400, 100).plan(desired, view, NOW, NONE_LIVE, false);
        assertThat(plan.added).isEqualTo(2);
        assertThat(view.get(p("192.0.2.5"), NOW).expiresAt).isEqualTo(NOW + 2 * HOUR);
        assertThat(view.get(p("192.0.2.6"), NOW).expiresAt).isEqualTo(NOW + 2 * HOUR);
    }

    @Test
    void entriesChangedLiveDuringTheLoadStayAndAreNeverShortened() {
        long loadStartedAt = NOW - 5_000;
        BlockTable view = new BlockTable();
        view.put(p("192.0.2.7"), NOW + 5 * HOUR, NOW - 1_000); // blocked live during the load, not in the snapshot
        view.put(p("192.0.2.8"), NOW + 5 * HOUR, NOW - 2_000); // blocked live during the load, an older lifetime in the snapshot
        view.put(p("192.0.2.9"), NOW + 5 * HOUR, NOW - 60_000); // older than the load, gone from the store
        List<Wanted> desired = List.of(new Wanted(p("192.0.2.8"), NOW + HOUR, 0));
        ReconcilePlanner.Plan plan = new ReconcilePlanner(86_400, 100).plan(desired, view, NOW, loadStartedAt, true);
        assertThat(ops(plan)).containsExactly("REMOVE 192.0.2.9");
        assertThat(view.get(p("192.0.2.8"), NOW).expiresAt).isEqualTo(NOW + 5 * HOUR);
        assertThat(view.prefixes()).containsExactlyInAnyOrder(p("192.0.2.7"), p("192.0.2.8"));
        assertThat(plan.kept).isEqualTo(2);
    }

    /** Random views and snapshots of single addresses against a plain model: the next view is the snapshot. */
    /**
     * A /24 the store no longer names (its prefix listing forgiven or expired) while an address inside it is still
     * listed: the /24 leaves and the address goes into the kernel on its own, in the same reconcile.
     */
    @Test
    void aBroaderPrefixThatLeavesCoversNothingItsNarrowerEntriesAreAddedOrKept() {
        BlockTable view = new BlockTable();
        view.put(p("198.51.100.0/24"), NOW + HOUR, 0);
        view.put(p("10.9.0.0/16"), NOW + HOUR, 0);
        view.put(p("10.9.1.2"), NOW + HOUR, 0); // a live overlap the planner did not make: kept when the /16 leaves
        view.put(p("203.0.113.0/24"), NOW + HOUR, 0); // a new broader prefix elsewhere sends step 4 looking for covered entries
        List<Wanted> desired = new ArrayList<>();
        desired.add(new Wanted(p("198.51.100.7"), NOW + HOUR, 0));
        desired.add(new Wanted(p("10.9.1.2"), NOW + HOUR, 0));
        desired.add(new Wanted(p("192.0.2.0/24"), NOW + HOUR, 0));
        ReconcilePlanner.Plan plan = new ReconcilePlanner(86_400, 100).plan(desired, view, NOW, NONE_LIVE, true);

        assertThat(view.prefixes()).containsExactlyInAnyOrder(p("198.51.100.7"), p("10.9.1.2"), p("192.0.2.0/24"));
        assertThat(ops(plan)).containsExactlyInAnyOrder("REMOVE 198.51.100.0/24", "REMOVE 10.9.0.0/16", "REMOVE 203.0.113.0/24",
            "ADD 198.51.100.7 3600s", "ADD 192.0.2.0/24 3600s");
        assertThat(plan.ops.subList(0, 3)).allMatch(op -> op.kind() == Op.Kind.REMOVE);
        assertThat(plan.covered).isZero();
    }

    /**
     * Overlapping prefixes (addresses, the /24s around them and now and then their /16) named at random: after every
     * round the view and a model kernel hold exactly the named prefixes no other named prefix covers.
     */
    @Test
    void overlappingPrefixesLeaveExactlyTheBroadestNamedOnesOverRandomRounds() {
        Random random = new Random(13);
        BlockTable view = new BlockTable();
        Map<Prefix, Long> kernel = new HashMap<>();
        ReconcilePlanner planner = new ReconcilePlanner(86_400, 1_000_000);
        for (int round = 0; round < 300; round++) {
            long now = NOW + round * 1000L;
            List<Wanted> desired = new ArrayList<>();
            int n = random.nextInt(60);
            for (int i = 0; i < n; i++) {
                int kind = random.nextInt(20);
                Prefix a = kind == 0 ? p("10.0.0.0/16") : kind < 5 ? p("10.0." + random.nextInt(4) + ".0/24")
                    : p("10.0." + random.nextInt(4) + "." + random.nextInt(20));
                desired.add(new Wanted(a, now + 1000L * (100 + random.nextInt(7200)), 0));
            }
            Set<Prefix> named = desired.stream().map(w -> w.prefix).collect(Collectors.toSet());
            Set<Prefix> expected = named.stream()
                .filter(a -> named.stream().noneMatch(b -> b.length() < a.length() && a.truncate(b.length()).equals(b)))
                .collect(Collectors.toSet());
            ReconcilePlanner.Plan plan = planner.plan(desired, view, now, NONE_LIVE, true);
            for (Op op : plan.ops) {
                if (op.kind() == Op.Kind.REMOVE) {
                    assertThat(kernel.remove(op.prefix())).as("round " + round + ": " + op).isNotNull();
                } else {
                    kernel.put(op.prefix(), now + op.ttlSeconds() * 1000);
                }
            }
            kernel.values().removeIf(exp -> exp <= now);
            assertThat(view.prefixes()).as("round " + round).isEqualTo(expected);
            assertThat(kernel.keySet()).as("round " + round).isEqualTo(expected);
        }
    }

    @Test
    void agreesWithAPlainModelOverRandomRounds() {
        agreesWithAPlainModel(new Random(11), r -> p("10.0." + r.nextInt(4) + "." + r.nextInt(100)));
    }

    /**
     * The same with single IPv4 addresses (the snapshot's primitive path) mixed with IPv4 networks and IPv6 /64s
     * (its object path) that do not overlap them, named in one snapshot in random order.
     */
    @Test
    void agreesWithAPlainModelOverRandomRoundsOfMixedPrefixes() {
        agreesWithAPlainModel(new Random(12), r -> switch (r.nextInt(3)) {
            case 0 -> p("10.0." + r.nextInt(4) + "." + r.nextInt(100));
            case 1 -> p("10.1." + r.nextInt(40) + ".0/24");
            default -> p("2001:db8:0:" + Integer.toHexString(r.nextInt(200)) + "::/64");
        });
    }

    private static void agreesWithAPlainModel(Random random, java.util.function.Function<Random, Prefix> prefixes) {
        BlockTable view = new BlockTable();
        Map<Prefix, Long> kernel = new HashMap<>(); // what the ops did to a model kernel
        ReconcilePlanner planner = new ReconcilePlanner(86_400, 1_000_000);
        for (int round = 0; round < 200; round++) {
            long now = NOW + round * 1000L;
            List<Wanted> desired = new ArrayList<>();
            int n = random.nextInt(300);
            for (int i = 0; i < n; i++) {
                Prefix a = prefixes.apply(random);
                desired.add(new Wanted(a, now + 1000L * (1 + random.nextInt(7200)), 0));
            }
            Map<Prefix, Wanted> expected = new HashMap<>();
            desired.forEach(w -> expected.merge(w.prefix, w, (a, b) -> b.expiresAt > a.expiresAt ? b : a));
            ReconcilePlanner.Plan plan = planner.plan(desired, view, now, NONE_LIVE, true);
            for (Op op : plan.ops) {
                if (op.kind() == Op.Kind.REMOVE) {
                    kernel.remove(op.prefix());
                } else {
                    kernel.put(op.prefix(), now + op.ttlSeconds() * 1000);
                }
            }
            kernel.values().removeIf(exp -> exp <= now); // the kernel's own timeouts
            assertThat(view.prefixes()).isEqualTo(expected.keySet());
            assertThat(kernel.keySet()).isEqualTo(expected.keySet());
            Set<Prefix> drifted = new HashSet<>();
            expected.forEach((a, w) -> {
                if (Math.abs(kernel.get(a) - w.expiresAt) > ReconcilePlanner.REFRESH_TOLERANCE_MILLIS + 1000) {
                    drifted.add(a);
                }
            });
            assertThat(drifted).as("round " + round).isEmpty();
            assertThat(plan.added + plan.refreshed + plan.kept).isEqualTo(expected.size());
            assertThat(plan.ops.stream().filter(op -> op.kind() == Op.Kind.ADD).count()).isEqualTo(plan.added);
            assertThat(plan.ops.stream().filter(op -> op.kind() == Op.Kind.REMOVE).count()).isEqualTo(plan.removed);
            // a prefix named twice may be refreshed twice
            assertThat(plan.ops.stream().filter(op -> op.kind() == Op.Kind.REFRESH).count()).isGreaterThanOrEqualTo(plan.refreshed);
        }
    }
}
