package dev.spamtrap.agent.apply;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** What the agent has done, for its status endpoint: applied and refused commands (by reason), reconciles, restores. */
public final class AgentStats {
    private final LongAdder applied = new LongAdder();
    private final Map<String, LongAdder> refused = new ConcurrentHashMap<>();
    private final AtomicLong tablesRestored = new AtomicLong();
    private final AtomicLong driftRepaired = new AtomicLong();
    private volatile RebuildReport lastReconcile;
    private volatile long lastReconcileAt;

    void count(Outcome o) {
        if (o.isApplied()) {
            applied.increment();
        } else {
            refused(reasonOf(o.detail()));
        }
    }

    /** Counts one refusal; {@code reason} is a short word such as "breaker", "protected", "stale", "signature". */
    public void refused(String reason) {
        refused.computeIfAbsent(reason, k -> new LongAdder()).increment();
    }

    static String reasonOf(String detail) {
        if (detail.startsWith("circuit breaker")) {
            return "breaker";
        }
        if (detail.startsWith("firewall command failed")) {
            return "firewall";
        }
        return "other";
    }

    void tableRestored() {
        tablesRestored.incrementAndGet();
    }

    void reconciled(RebuildReport report, long at) {
        lastReconcile = report;
        lastReconcileAt = at;
    }

    public long applied() {
        return applied.sum();
    }

    public Map<String, Long> refusedByReason() {
        Map<String, Long> out = new TreeMap<>();
        refused.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    void driftRepaired(long objectsOrElements) {
        driftRepaired.addAndGet(objectsOrElements);
    }

    /** Objects (sets, chain, rules) and elements the drift check found missing and put back. */
    public long driftRepaired() {
        return driftRepaired.get();
    }

    public long tablesRestored() {
        return tablesRestored.get();
    }

    /** The last rebuild or reconcile that completed, or null. */
    public RebuildReport lastReconcile() {
        return lastReconcile;
    }

    public long lastReconcileAt() {
        return lastReconcileAt;
    }
}
