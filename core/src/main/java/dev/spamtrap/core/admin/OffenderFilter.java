package dev.spamtrap.core.admin;

import java.util.Optional;

/** Filters for the offender listing; every field is optional and they combine with AND. */
public final class OffenderFilter {
    public static final OffenderFilter NONE = new OffenderFilter(null, null, null);

    private final String prefix;
    private final String trap;
    private final String node;
    private final String confidence;
    private final String sensor;
    private final Boolean observed;

    public OffenderFilter(String prefix, String trap, String node) {
        this(prefix, trap, node, null, null, null);
    }

    /**
     * @param confidence {@code trap} or {@code protocol}, or null
     * @param sensor a protocol sensor's name ({@code pregreet}, {@code http}, {@code header}), or null
     * @param observed true: only observed listings (what observe mode would have refused); false: only acted-on ones; null: both
     */
    public OffenderFilter(String prefix, String trap, String node, String confidence, String sensor, Boolean observed) {
        if (confidence != null && !confidence.equals("trap") && !confidence.equals("protocol")) {
            throw new IllegalArgumentException("class '" + confidence + "' is not one of trap, protocol");
        }
        this.prefix = prefix;
        this.trap = trap;
        this.node = node;
        this.confidence = confidence;
        this.sensor = sensor;
        this.observed = observed;
    }

    /** Whether a listing of this cause passes the class, sensor and observe filters. */
    public boolean admits(dev.spamtrap.core.offender.Cause cause) {
        return (confidence == null || confidence.equals(cause.confidence().label()))
            && (sensor == null || sensor.equals(cause.sensor()))
            && (observed == null || observed == cause.isObserved());
    }

    /** A CIDR range: only offenders whose key lies inside it. */
    public Optional<String> prefix() { return Optional.ofNullable(prefix); }
    /** Only offenders that hit this trap address. */
    public Optional<String> trap() { return Optional.ofNullable(trap); }
    /** Only offenders recorded by this James node. */
    public Optional<String> node() { return Optional.ofNullable(node); }
}
