package dev.spamtrap.core.firewall;

/** A command as decoded from one authenticated line: when it was signed, its nonce and the command itself. */
public final class SignedMessage {
    private final long timestampMillis;
    private final String nonce;
    private final FirewallCommand command;

    public SignedMessage(long timestampMillis, String nonce, FirewallCommand command) {
        this.timestampMillis = timestampMillis;
        this.nonce = nonce;
        this.command = command;
    }

    public long timestampMillis() { return timestampMillis; }
    /** 16 lowercase hex digits (64 random bits). */
    public String nonce() { return nonce; }
    public FirewallCommand command() { return command; }

    @Override
    public String toString() {
        return command + " (nonce " + nonce + ", signed at " + timestampMillis + ")";
    }
}
