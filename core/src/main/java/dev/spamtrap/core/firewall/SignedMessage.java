package dev.spamtrap.core.firewall;

import java.util.List;

/** An authenticated message as decoded: the agent it names, when it was signed, its nonce and its commands, in order. */
public final class SignedMessage {
    private final String agent;
    private final long timestampMillis;
    private final String nonce;
    private final List<FirewallCommand> commands;

    public SignedMessage(String agent, long timestampMillis, String nonce, List<FirewallCommand> commands) {
        this.agent = agent;
        this.timestampMillis = timestampMillis;
        this.nonce = nonce;
        this.commands = List.copyOf(commands);
    }

    /** The agent the sender addressed, as James names its endpoint (e.g. {@code tcp:127.0.0.1:7625}). */
    public String agent() { return agent; }
    public long timestampMillis() { return timestampMillis; }
    /** 16 lowercase hex digits (64 random bits). */
    public String nonce() { return nonce; }
    /** 1 to {@link WireFormat#MAX_COMMANDS} commands. */
    public List<FirewallCommand> commands() { return commands; }

    @Override
    public String toString() {
        return commands.size() + " command(s), first " + commands.get(0) + " (for " + agent + ", nonce " + nonce + ", signed at " + timestampMillis + ")";
    }
}
