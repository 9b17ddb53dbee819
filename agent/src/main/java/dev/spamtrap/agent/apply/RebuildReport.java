package dev.spamtrap.agent.apply;

/** The result of one rebuild (start-up) or reconcile (by difference) of the sets from a snapshot of active offenders. */
public final class RebuildReport {
    public final boolean done;
    public final boolean full;
    public final int entries;
    public final int added;
    public final int removed;
    public final int refreshed;
    public final int kept;
    public final int covered;
    public final int refusedByBreaker;
    public final int capped;
    public final long millis;
    /** Of {@link #millis}, the time spent in the firewall backend (nft); the rest is the agent's own planning. */
    public final long backendMillis;
    public final String problem;

    RebuildReport(boolean done, boolean full, int entries, int added, int removed, int refreshed, int kept, int covered, int refusedByBreaker,
                  int capped, long millis, long backendMillis, String problem) {
        this.done = done;
        this.full = full;
        this.entries = entries;
        this.added = added;
        this.removed = removed;
        this.refreshed = refreshed;
        this.kept = kept;
        this.covered = covered;
        this.refusedByBreaker = refusedByBreaker;
        this.capped = capped;
        this.millis = millis;
        this.backendMillis = backendMillis;
        this.problem = problem;
    }

    static RebuildReport failed(int entries, long millis, String problem) {
        return new RebuildReport(false, false, entries, 0, 0, 0, 0, 0, 0, 0, millis, 0, problem);
    }

    /** Elements changed in the kernel (the difference applied). */
    public int difference() {
        return added + removed + refreshed;
    }

    @Override
    public String toString() {
        return done
            ? entries + " entries in the firewall (" + (full ? "full rebuild" : "difference applied") + ": " + added + " added, " + removed
                + " removed, " + refreshed + " refreshed, " + kept + " unchanged, " + covered + " inside a broader block, " + refusedByBreaker
                + " held back by the circuit breaker, " + capped + " capped at block.maxLifetime) in " + millis + " ms (" + backendMillis + " ms of them in the backend)"
            : "not rebuilt: " + problem;
    }
}
