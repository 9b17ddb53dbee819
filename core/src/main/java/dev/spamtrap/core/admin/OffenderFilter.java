package dev.spamtrap.core.admin;

import java.util.Optional;

/** Filters for the offender listing; every field is optional and they combine with AND. */
public final class OffenderFilter {
    public static final OffenderFilter NONE = new OffenderFilter(null, null, null);

    private final String prefix;
    private final String trap;
    private final String node;

    public OffenderFilter(String prefix, String trap, String node) {
        this.prefix = prefix;
        this.trap = trap;
        this.node = node;
    }

    /** A CIDR range: only offenders whose key lies inside it. */
    public Optional<String> prefix() { return Optional.ofNullable(prefix); }
    /** Only offenders that hit this trap address. */
    public Optional<String> trap() { return Optional.ofNullable(trap); }
    /** Only offenders recorded by this James node. */
    public Optional<String> node() { return Optional.ofNullable(node); }
}
