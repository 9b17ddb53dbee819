package dev.spamtrap.core.admin;

import java.time.Duration;
import java.util.Optional;

/** One node's health, as {@code GET /spamtrap/status} shows it. */
public final class SpamtrapStatus {
    private final String node;
    private final boolean storeReachable;
    private final long spoolDepth;
    private final long viewSize;
    private final Duration lastSyncAge;
    private final Boolean agentReachable;
    private final String breakerState;

    public SpamtrapStatus(String node, boolean storeReachable, long spoolDepth, long viewSize, Duration lastSyncAge,
                          Boolean agentReachable, String breakerState) {
        this.node = node;
        this.storeReachable = storeReachable;
        this.spoolDepth = spoolDepth;
        this.viewSize = viewSize;
        this.lastSyncAge = lastSyncAge;
        this.agentReachable = agentReachable;
        this.breakerState = breakerState;
    }

    public String node() { return node; }
    public boolean storeReachable() { return storeReachable; }
    /** Hits on disk not yet confirmed by Cassandra. */
    public long spoolDepth() { return spoolDepth; }
    /** Offender entries in this node's connect-time view. */
    public long viewSize() { return viewSize; }
    /** Time since the last successful sync from the change feed; empty if never synced. */
    public Optional<Duration> lastSyncAge() { return Optional.ofNullable(lastSyncAge); }
    /** Empty when no firewall agent is configured. */
    public Optional<Boolean> agentReachable() { return Optional.ofNullable(agentReachable); }
    /** The agent's circuit breaker as last reported ({@code closed}, {@code open ...}); empty if unknown. */
    public Optional<String> breakerState() { return Optional.ofNullable(breakerState); }
    /** Healthy: the store answers and nothing waits in the spool for long. */
    public boolean healthy() { return storeReachable; }
}
