package dev.spamtrap.core.store;

import dev.spamtrap.core.offender.Cause;

import java.time.Instant;

/**
 * One entry of the change feed: an offender listed or removed, or the trap / allowlist table changed. Entries are
 * ordered per writer ({@link #source()}) by {@link #seq()}: 1, 2, 3 ... without gaps within one source.
 */
public final class Change {
    public static final String LISTED = "listed";
    public static final String REMOVED = "removed";
    public static final String TRAPS = "traps";
    public static final String ALLOWLIST = "allowlist";
    /** A client passed the pregreet test: {@link #key()} skips it until {@link #expiresAt()}. */
    public static final String PASSED = "passed";
    /** A {@code listed} entry with its cause is written {@code listed/<cause label>} (a bare {@code listed} is a trap listing). */
    static final String LISTED_WITH = LISTED + "/";

    /** The feed kind for a listing of this cause. */
    static String listedKind(Cause cause) {
        return cause.equals(Cause.TRAP) ? LISTED : LISTED_WITH + cause.label();
    }

    private final FeedSource source;
    private final long seq;
    private final String kind;
    private final String key;
    private final Instant expiresAt;
    private final int generation;
    private final Cause cause;

    public Change(FeedSource source, long seq, String kind, String key, Instant expiresAt, int generation) {
        this(source, seq, kind, key, expiresAt, generation, Cause.TRAP);
    }

    public Change(FeedSource source, long seq, String kind, String key, Instant expiresAt, int generation, Cause cause) {
        this.cause = cause;
        this.source = source;
        this.seq = seq;
        this.kind = kind;
        this.key = key == null ? "" : key;
        this.expiresAt = expiresAt;
        this.generation = generation;
    }

    /** The writer (a James node, or an administrator's store) and its epoch. */
    public FeedSource source() { return source; }
    /** This entry's place in its source's sequence (from 1). */
    public long seq() { return seq; }
    public String kind() { return kind; }
    /** The offender key for {@code listed} / {@code removed}; empty otherwise. */
    public String key() { return key; }
    /** For {@code listed}: until when; null otherwise. */
    public Instant expiresAt() { return expiresAt; }
    /**
     * The key's forgive generation the entry belongs to: a {@code removed} entry of generation g voids every
     * {@code listed} entry of a lower generation, whatever order they are read in.
     */
    public int generation() { return generation; }
    /** For {@code listed}: why (a trap listing when the writer did not say). */
    public Cause cause() { return cause; }
    /** The James node that made the change ("admin" for administrator changes). */
    public String node() { return source.writer(); }

    @Override
    public String toString() {
        return "Change{" + source + "#" + seq + " " + kind + " " + key + " until " + expiresAt + " gen " + generation + " " + cause + "}";
    }
}
