package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.backend.Op;
import dev.spamtrap.agent.net.Prefix;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

class ReconcilePlannerTest {
    static final long NOW = 1_000_000_000_000L;
    static final long HOUR = 3_600_000;

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
        Map<Prefix, Wanted> desired = new HashMap<>();
        desired.put(p("192.0.2.1"), new Wanted(NOW + HOUR + 10_000, 0)); // within tolerance: kept
        desired.put(p("192.0.2.2"), new Wanted(NOW + 3 * HOUR, 0));     // refreshed
        desired.put(p("192.0.2.4"), new Wanted(NOW + HOUR, 0));         // added
        ReconcilePlanner.Plan plan = new ReconcilePlanner(86_400, 100).plan(desired, view, NOW, true);

        assertThat(ops(plan)).containsExactlyInAnyOrder("REMOVE 192.0.2.3", "REFRESH 192.0.2.2 10800s", "ADD 192.0.2.4 3600s");
        assertThat(plan.ops.get(0).kind()).isEqualTo(Op.Kind.REMOVE);
        assertThat(new int[] {plan.added, plan.removed, plan.refreshed, plan.kept}).containsExactly(1, 1, 1, 1);
        assertThat(view.entries().keySet()).containsExactlyInAnyOrder(p("192.0.2.1"), p("192.0.2.2"), p("192.0.2.4"));
        assertThat(view.get(p("192.0.2.1"), NOW).expiresAt).as("kept entries keep the kernel's lifetime").isEqualTo(NOW + HOUR);
        assertThat(view.get(p("192.0.2.2"), NOW).changedAt).isEqualTo(5);
    }

    @Test
    void aNewBroaderPrefixReplacesTheNarrowerOnesAndNewNarrowerOnesInsideItAreCovered() {
        BlockTable view = new BlockTable();
        view.put(p("198.51.100.7"), NOW + HOUR, 0);
        view.put(p("198.51.100.8"), NOW + HOUR, 0);
        Map<Prefix, Wanted> desired = new HashMap<>();
        desired.put(p("198.51.100.7"), new Wanted(NOW + HOUR, 0));
        desired.put(p("198.51.100.8"), new Wanted(NOW + 5 * HOUR, 0)); // would be refreshed, but is covered
        desired.put(p("198.51.100.0/24"), new Wanted(NOW + HOUR, 0));
        desired.put(p("198.51.100.9"), new Wanted(NOW + HOUR, 0));
        ReconcilePlanner.Plan plan = new ReconcilePlanner(86_400, 100).plan(desired, view, NOW, true);

        assertThat(ops(plan)).containsExactlyInAnyOrder("REMOVE 198.51.100.7", "REMOVE 198.51.100.8", "ADD 198.51.100.0/24 3600s");
        assertThat(new int[] {plan.added, plan.covered, plan.refreshed, plan.kept}).containsExactly(1, 3, 0, 0);
        assertThat(view.entries().keySet()).containsExactly(p("198.51.100.0/24"));
    }

    @Test
    void theBreakerCountsKnownEntriesOfAMinuteFirstAndHoldsBackTheNewOnesBeyondItsLimit() {
        long minute = 42 * 60_000L;
        BlockTable view = new BlockTable();
        view.put(p("203.0.113.1"), NOW + HOUR, 0);
        Map<Prefix, Wanted> desired = new HashMap<>();
        desired.put(p("203.0.113.1"), new Wanted(NOW + HOUR, minute));
        for (int i = 2; i <= 10; i++) {
            desired.put(p("203.0.113." + i), new Wanted(NOW + HOUR, minute + i));
        }
        desired.put(p("203.0.113.50"), new Wanted(NOW + HOUR, minute + 60_000)); // another minute
        ReconcilePlanner.Plan plan = new ReconcilePlanner(86_400, 3).plan(desired, view, NOW, true);

        assertThat(plan.added).as("2 of the first minute (1 already blocked) + 1 of the next").isEqualTo(3);
        assertThat(plan.held).isEqualTo(7);
        assertThat(plan.heldSample).hasSize(7);
        assertThat(view.size()).isEqualTo(4);
    }

    @Test
    void lifetimesAreCappedOnEveryEntry() {
        Map<Prefix, Wanted> desired = Map.of(p("2001:db8:1:2::/64"), new Wanted(NOW + 100 * HOUR, 0));
        BlockTable view = new BlockTable();
        ReconcilePlanner.Plan plan = new ReconcilePlanner(3600, 100).plan(new HashMap<>(desired), view, NOW, true);
        assertThat(ops(plan)).containsExactly("ADD 2001:db8:1:2:0:0:0:0/64 3600s");
        assertThat(plan.capped).isEqualTo(1);
    }

    /** Random views and snapshots of single addresses against a plain model: the next view is the snapshot. */
    @Test
    void agreesWithAPlainModelOverRandomRounds() {
        Random random = new Random(11);
        BlockTable view = new BlockTable();
        Map<Prefix, Long> kernel = new HashMap<>(); // what the ops did to a model kernel
        ReconcilePlanner planner = new ReconcilePlanner(86_400, 1_000_000);
        for (int round = 0; round < 200; round++) {
            long now = NOW + round * 1000L;
            Map<Prefix, Wanted> desired = new HashMap<>();
            int n = random.nextInt(300);
            for (int i = 0; i < n; i++) {
                Prefix a = p("10.0." + random.nextInt(4) + "." + random.nextInt(100));
                desired.put(a, new Wanted(now + 1000L * (1 + random.nextInt(7200)), 0));
            }
            Map<Prefix, Wanted> expected = new HashMap<>(desired);
            ReconcilePlanner.Plan plan = planner.plan(desired, view, now, true);
            for (Op op : plan.ops) {
                if (op.kind() == Op.Kind.REMOVE) {
                    kernel.remove(op.prefix());
                } else {
                    kernel.put(op.prefix(), now + op.ttlSeconds() * 1000);
                }
            }
            kernel.values().removeIf(exp -> exp <= now); // the kernel's own timeouts
            assertThat(view.entries().keySet()).isEqualTo(expected.keySet());
            assertThat(kernel.keySet()).isEqualTo(expected.keySet());
            Set<Prefix> drifted = new HashSet<>();
            expected.forEach((a, w) -> {
                if (Math.abs(kernel.get(a) - w.expiresAt) > ReconcilePlanner.REFRESH_TOLERANCE_MILLIS + 1000) {
                    drifted.add(a);
                }
            });
            assertThat(drifted).as("round " + round).isEmpty();
            assertThat(plan.added + plan.refreshed + plan.kept).isEqualTo(expected.size());
            assertThat(plan.ops).hasSize(plan.added + plan.refreshed + plan.removed);
        }
    }
}
