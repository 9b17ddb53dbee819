package dev.spamtrap.core.trap;

/**
 * The names of the two Mail attributes by which the SMTP hooks hand a trapped message to the {@code IsTrapped}
 * matcher (one place, so the hook that writes them and the matcher that reads them cannot drift apart).
 */
public final class TrappedMailAttributes {
    /** The whole message is trapped; the value is the trap address. */
    public static final String TRAPPED = "dev.spamtrap.trapped";
    /** Only these recipients' copies are kept back (an exempt client named a trap); the value lists them. */
    public static final String TRAPPED_RECIPIENTS = "dev.spamtrap.trappedRecipients";

    private TrappedMailAttributes() {
    }
}
