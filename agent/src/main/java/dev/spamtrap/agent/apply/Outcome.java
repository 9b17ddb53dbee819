package dev.spamtrap.agent.apply;

/** What became of one command: applied (with what happened) or refused (with why). */
public final class Outcome {
    private final boolean applied;
    private final String detail;
    /** With {@link #seconds} and {@link #suffix}: the parts of a detail written only when asked for (a burst's replies never ask). */
    private final long seconds;
    private final String suffix;

    private Outcome(boolean applied, String detail, long seconds, String suffix) {
        this.applied = applied;
        this.detail = detail;
        this.seconds = seconds;
        this.suffix = suffix;
    }

    public static Outcome applied(String detail) { return new Outcome(true, detail, -1, null); }
    public static Outcome refused(String reason) { return new Outcome(false, reason, -1, null); }

    /** Applied, its detail {@code what + seconds + suffix} (e.g. "blocked for " 3600 " s"), built when first asked for. */
    static Outcome applied(String what, long seconds, String suffix) {
        return new Outcome(true, what, seconds, suffix);
    }

    public boolean isApplied() { return applied; }

    public String detail() {
        return suffix == null ? detail : detail + seconds + suffix;
    }

    @Override
    public String toString() {
        return (applied ? "applied: " : "refused: ") + detail();
    }
}
