package dev.spamtrap.core.admin;

import java.time.Instant;
import java.util.Optional;

/** An allowlisted range. {@code source} is {@code table} or {@code file}. */
public final class AllowlistRecord {
    private final String cidr;
    private final String source;
    private final String comment;
    private final Instant addedAt;

    public AllowlistRecord(String cidr, String source, String comment, Instant addedAt) {
        this.cidr = cidr;
        this.source = source;
        this.comment = comment;
        this.addedAt = addedAt;
    }

    public String cidr() { return cidr; }
    public String source() { return source; }
    public Optional<String> comment() { return Optional.ofNullable(comment); }
    public Optional<Instant> addedAt() { return Optional.ofNullable(addedAt); }
}
