package dev.spamtrap.agent.backend;

import dev.spamtrap.agent.net.Prefix;

import java.util.List;
import java.util.Map;

/** A packet filter the agent drives. Called from the agent's single applier thread only, except {@link #readBack()}. */
public interface FirewallBackend {
    /** e.g. "nftables table inet spamtrap"; for log lines. */
    String describe();

    /** Creates the table, sets and rule if missing; safe to call on every start. */
    void start() throws BackendException;

    /** Applies a batch; for nftables as one transaction (all or nothing). */
    void apply(List<Op> ops) throws BackendException;

    /** Replaces the whole content of the sets with these prefixes and lifetimes (seconds), atomically where the backend can. */
    void rebuild(Map<Prefix, Long> blocks) throws BackendException;

    /**
     * Whether the backend's objects (table, chain) are still there; false after e.g. {@code nft flush ruleset}
     * by the host's firewall service, and the agent then restores them at once. Cheap: called every second.
     */
    default boolean isPresent() throws BackendException {
        return true;
    }

    /**
     * What the backend's sets hold now: each prefix with the seconds left of its kernel timeout
     * ({@link Long#MAX_VALUE} for none). Empty when this backend cannot list its sets with their lifetimes (pf);
     * the agent then learns the kernel's content only from a full start-up rebuild. May be called from a thread other
     * than the applier's, and may take seconds on a large set.
     */
    default java.util.Optional<Map<Prefix, Long>> readBack() throws BackendException {
        return java.util.Optional.empty();
    }

    /**
     * The drift check: what the kernel holds now (objects and elements), or empty when this backend cannot tell
     * (the agent then only checks {@link #isPresent()}). Called from the drift-check thread; may take seconds on
     * a large set.
     */
    default java.util.Optional<KernelState> inspect() throws BackendException {
        return java.util.Optional.empty();
    }

    /** Adds back the objects {@code found} lacks, leaving those still there untouched. Elements are the applier's job. */
    default void restoreObjects(KernelState found) throws BackendException {
        start();
    }

    /** The longest kernel timeout this backend accepts; the agent caps every lifetime at it. */
    default long maxTimeoutSeconds() {
        return Long.MAX_VALUE;
    }

    /**
     * For a backend without kernel-side expiry: deletes the entries whose lifetime is over, by the deadlines the
     * backend recorded when it wrote them; returns how many. Called by the applier every second.
     */
    default int sweepExpired() throws BackendException {
        return 0;
    }

    /** Whether entries expire in the kernel by themselves; when false the agent removes expired entries itself. */
    boolean expiresInKernel();
}
