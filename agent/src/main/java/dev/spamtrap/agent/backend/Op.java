package dev.spamtrap.agent.backend;

import dev.spamtrap.agent.net.Prefix;

/**
 * One change to the firewall sets. ADD puts a prefix that is not there yet; REFRESH replaces the lifetime of one
 * that is (or may be) there; REMOVE takes it out if it is there. Backends make REFRESH and REMOVE safe whether
 * or not the element exists, so a kernel-side expiry racing the agent never fails a batch.
 */
public final class Op {
    public enum Kind { ADD, REFRESH, REMOVE }

    private final Kind kind;
    private final Prefix prefix;
    private final long ttlSeconds;

    private Op(Kind kind, Prefix prefix, long ttlSeconds) {
        this.kind = kind;
        this.prefix = prefix;
        this.ttlSeconds = ttlSeconds;
    }

    public static Op add(Prefix p, long ttlSeconds) { return new Op(Kind.ADD, p, ttlSeconds); }
    public static Op refresh(Prefix p, long ttlSeconds) { return new Op(Kind.REFRESH, p, ttlSeconds); }
    public static Op remove(Prefix p) { return new Op(Kind.REMOVE, p, 0); }

    public Kind kind() { return kind; }
    public Prefix prefix() { return prefix; }
    public long ttlSeconds() { return ttlSeconds; }

    @Override
    public String toString() {
        return kind + " " + prefix + (kind == Kind.REMOVE ? "" : " " + ttlSeconds + "s");
    }
}
