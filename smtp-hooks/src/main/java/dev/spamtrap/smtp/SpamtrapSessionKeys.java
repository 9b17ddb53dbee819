package dev.spamtrap.smtp;

import org.apache.james.protocols.api.ProtocolSession.AttachmentKey;

/** Session attachments the spamtrap handlers share. */
public final class SpamtrapSessionKeys {
    /** Set for the rest of an SMTP transaction once a recipient in it was a trap; holds the trap address. */
    public static final AttachmentKey<String> TRAPPED = AttachmentKey.of("dev.spamtrap.trapped", String.class);

    /** Name of the Mail attribute that marks a trapped message for the {@code IsTrapped} matcher. */
    public static final String MAIL_ATTRIBUTE = "dev.spamtrap.trapped";

    private SpamtrapSessionKeys() {
    }
}
