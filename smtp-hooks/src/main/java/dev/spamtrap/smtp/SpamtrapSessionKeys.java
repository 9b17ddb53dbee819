package dev.spamtrap.smtp;

import org.apache.james.protocols.api.ProtocolSession.AttachmentKey;

/** Session attachments the spamtrap handlers share. */
public final class SpamtrapSessionKeys {
    /**
     * Connection state: set once a client on this connection sent to a trap; holds the trap address. Every
     * message the connection sends from then on (after DATA, RSET, a new EHLO) is quarantined, and no further
     * hit is recorded for it (one connection is one offence).
     */
    public static final AttachmentKey<String> TRAPPED = AttachmentKey.of("dev.spamtrap.trapped", String.class);

    /** Transaction state: a trusted relay passed a trap recipient; the offender is read from the message's headers. */
    public static final AttachmentKey<RelayedTrap> RELAYED_TRAP = AttachmentKey.of("dev.spamtrap.relayedTrap", RelayedTrap.class);

    /** Name of the Mail attribute that marks a trapped message for the {@code IsTrapped} matcher. */
    public static final String MAIL_ATTRIBUTE = "dev.spamtrap.trapped";

    private SpamtrapSessionKeys() {
    }
}
