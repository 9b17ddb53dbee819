package dev.spamtrap.core.firewall;

/** A command as decoded from one authenticated line: when it was signed, its nonce and the command itself. */
public final class SignedMessage {
    private final String agent;
    private final long timestampMillis;
    private final String nonce;
    private final FirewallCommand command;

    public SignedMessage(String agent, long timestampMillis, String nonce, FirewallCommand command) {
        this.agent = agent;
        this.timestampMillis = timestampMillis;
        this.nonce = nonce;
        this.command = command;
    }

    /** The agent the sender addressed, as James names its endpoint (e.g. {@code tcp:127.0.0.1:7625}). */
    public String agent() { return agent; }
    public long timestampMillis() { return timestampMillis; }
    /** 16 lowercase hex digits (64 random bits). */
    public String nonce() { return nonce; }
    public FirewallCommand command() { return command; }

    @Override
    public String toString() {
        return command + " (for " + agent + ", nonce " + nonce + ", signed at " + timestampMillis + ")";
    }
}
