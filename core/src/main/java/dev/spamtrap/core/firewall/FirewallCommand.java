package dev.spamtrap.core.firewall;

import java.util.Objects;

/**
 * What James asks the firewall agent to do: block an address or prefix for a lifetime, or unblock it.
 * The target is kept as the text sent on the wire; the agent parses it (without DNS) when it applies it.
 */
public final class FirewallCommand {
    public enum Action { BLOCK, UNBLOCK }

    /** Longest lifetime a BLOCK may carry on the wire (one year); the agent may enforce a shorter one. */
    public static final long MAX_TTL_SECONDS = 366L * 24 * 3600;

    private final Action action;
    private final String target;
    private final long ttlSeconds;

    private FirewallCommand(Action action, String target, long ttlSeconds) {
        this.action = Objects.requireNonNull(action);
        this.target = Objects.requireNonNull(target);
        this.ttlSeconds = ttlSeconds;
    }

    /** @throws IllegalArgumentException when the target has characters an address never has, or the ttl is out of range */
    public static FirewallCommand block(String target, long ttlSeconds) {
        if (ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
            throw new IllegalArgumentException("ttl " + ttlSeconds + " s out of range 1.." + MAX_TTL_SECONDS);
        }
        return new FirewallCommand(Action.BLOCK, WireFormat.checkTargetToken(target), ttlSeconds);
    }

    public static FirewallCommand unblock(String target) {
        return new FirewallCommand(Action.UNBLOCK, WireFormat.checkTargetToken(target), 0);
    }

    public Action action() { return action; }
    public String target() { return target; }
    /** Lifetime in seconds for a BLOCK; 0 for an UNBLOCK. */
    public long ttlSeconds() { return ttlSeconds; }

    @Override
    public String toString() {
        return action == Action.BLOCK ? "BLOCK " + target + " for " + ttlSeconds + " s" : "UNBLOCK " + target;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof FirewallCommand)) {
            return false;
        }
        FirewallCommand c = (FirewallCommand) o;
        return c.action == action && c.target.equals(target) && c.ttlSeconds == ttlSeconds;
    }

    @Override
    public int hashCode() {
        return Objects.hash(action, target, ttlSeconds);
    }
}
