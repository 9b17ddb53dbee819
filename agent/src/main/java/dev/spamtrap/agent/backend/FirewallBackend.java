package dev.spamtrap.agent.backend;

import dev.spamtrap.agent.net.Prefix;

import java.util.List;
import java.util.Map;

/** A packet filter the agent drives. Called from the agent's single applier thread only. */
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

    /** Whether entries expire in the kernel by themselves; when false the agent removes expired entries itself. */
    boolean expiresInKernel();
}
