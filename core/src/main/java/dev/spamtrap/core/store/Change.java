package dev.spamtrap.core.store;

import java.time.Instant;
import java.util.UUID;

/** One entry of the change feed: an offender listed or removed, or the trap / allowlist table changed. */
public final class Change {
    public static final String LISTED = "listed";
    public static final String REMOVED = "removed";
    public static final String TRAPS = "traps";
    public static final String ALLOWLIST = "allowlist";

    private final UUID id;
    private final String kind;
    private final String key;
    private final Instant expiresAt;
    private final String node;

    public Change(UUID id, String kind, String key, Instant expiresAt, String node) {
        this.id = id;
        this.kind = kind;
        this.key = key;
        this.expiresAt = expiresAt;
        this.node = node;
    }

    /** A time-based UUID: orders the feed. */
    public UUID id() { return id; }
    public String kind() { return kind; }
    /** The offender key for {@code listed} / {@code removed}; empty otherwise. */
    public String key() { return key; }
    /** For {@code listed}: until when; null otherwise. */
    public Instant expiresAt() { return expiresAt; }
    /** The James node that made the change ("admin" for administrator changes). */
    public String node() { return node; }

    @Override
    public String toString() {
        return "Change{" + kind + " " + key + " until " + expiresAt + " by " + node + "}";
    }
}
