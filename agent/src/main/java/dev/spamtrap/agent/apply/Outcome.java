package dev.spamtrap.agent.apply;

/** What became of one command: applied (with what happened) or refused (with why). */
public final class Outcome {
    private final boolean applied;
    private final String detail;

    private Outcome(boolean applied, String detail) {
        this.applied = applied;
        this.detail = detail;
    }

    public static Outcome applied(String detail) { return new Outcome(true, detail); }
    public static Outcome refused(String reason) { return new Outcome(false, reason); }

    public boolean isApplied() { return applied; }
    public String detail() { return detail; }

    @Override
    public String toString() {
        return (applied ? "applied: " : "refused: ") + detail;
    }
}
