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

    /**
     * Transaction state: this message (all its recipients) is kept back without trapping the connection: a bounce to a
     * trap ({@code bounces=evidence}). Holds the trap address.
     */
    public static final AttachmentKey<String> TRAPPED_TRANSACTION = AttachmentKey.of("dev.spamtrap.trappedTransaction", String.class);

    /**
     * Transaction state: the trap recipients of an exempt client (authenticated, relay-authorized, allowlisted). Only
     * these copies are quarantined; the message's other recipients get it.
     */
    static final AttachmentKey<TrappedRecipients> TRAPPED_RECIPIENTS = AttachmentKey.of("dev.spamtrap.trappedRecipients", TrappedRecipients.class);

    /** The trap recipients of one transaction, in RCPT order. */
    static final class TrappedRecipients {
        final java.util.Set<String> addresses = new java.util.LinkedHashSet<>();
    }

    static void addTrappedRecipient(org.apache.james.protocols.smtp.SMTPSession session, org.apache.james.core.MailAddress rcpt) {
        TrappedRecipients r = session.getAttachment(TRAPPED_RECIPIENTS, org.apache.james.protocols.api.ProtocolSession.State.Transaction)
            .orElseGet(TrappedRecipients::new);
        r.addresses.add(rcpt.asString());
        session.setAttachment(TRAPPED_RECIPIENTS, r, org.apache.james.protocols.api.ProtocolSession.State.Transaction);
    }

    private SpamtrapSessionKeys() {
    }
}
