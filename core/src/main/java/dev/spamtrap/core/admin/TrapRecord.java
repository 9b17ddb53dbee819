package dev.spamtrap.core.admin;

import java.time.Instant;
import java.util.Optional;

/** A trap entry as listed to the administrator. {@code source} is {@code table} or {@code file}. */
public final class TrapRecord {
    private final String entry;
    private final String kind;
    private final String source;
    private final String comment;
    private final Instant addedAt;

    public TrapRecord(String entry, String kind, String source, String comment, Instant addedAt) {
        this.entry = entry;
        this.kind = kind;
        this.source = source;
        this.comment = comment;
        this.addedAt = addedAt;
    }

    public String entry() { return entry; }
    /** {@code address}, {@code domain} or {@code pattern}. */
    public String kind() { return kind; }
    public String source() { return source; }
    public Optional<String> comment() { return Optional.ofNullable(comment); }
    public Optional<Instant> addedAt() { return Optional.ofNullable(addedAt); }
}
