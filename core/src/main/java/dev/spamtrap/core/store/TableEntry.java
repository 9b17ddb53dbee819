package dev.spamtrap.core.store;

import java.time.Instant;

/** A row of a small administrator table: a trap entry or an allowlisted range, with its comment and when it was added. */
public final class TableEntry {
    private final String value;
    private final String comment;
    private final Instant addedAt;

    TableEntry(String value, String comment, Instant addedAt) {
        this.value = value;
        this.comment = comment;
        this.addedAt = addedAt;
    }

    public String value() { return value; }
    public String comment() { return comment; }
    public Instant addedAt() { return addedAt; }
}
