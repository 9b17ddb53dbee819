package dev.spamtrap.agent.apply;

/** The result of one rebuild of the sets from a snapshot of active offenders. */
public final class RebuildReport {
    public final boolean done;
    public final int entries;
    public final int added;
    public final int removed;
    public final int kept;
    public final int covered;
    public final int refusedByBreaker;
    public final long millis;
    public final String problem;

    RebuildReport(boolean done, int entries, int added, int removed, int kept, int covered, int refusedByBreaker, long millis, String problem) {
        this.done = done;
        this.entries = entries;
        this.added = added;
        this.removed = removed;
        this.kept = kept;
        this.covered = covered;
        this.refusedByBreaker = refusedByBreaker;
        this.millis = millis;
        this.problem = problem;
    }

    @Override
    public String toString() {
        return done
            ? entries + " entries in the firewall (" + added + " added, " + removed + " removed, " + kept + " kept, " + covered
                + " inside a broader block, " + refusedByBreaker + " held back by the circuit breaker) in " + millis + " ms"
            : "not rebuilt: " + problem;
    }
}
