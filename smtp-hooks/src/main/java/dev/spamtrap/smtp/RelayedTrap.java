package dev.spamtrap.smtp;

import dev.spamtrap.core.net.Allowlist;

/**
 * A trap recipient passed on by a trusted relay: who the offender is can only be read from the
 * {@code Received:} headers once the message is in, so the hit waits for the end of DATA.
 */
final class RelayedTrap {
    private final String trap;
    private final String mailFrom;
    private final String trapKind;
    private final Allowlist trustedRelays;
    private final boolean backscatter;

    RelayedTrap(String trap, String mailFrom, String trapKind, Allowlist trustedRelays, boolean backscatter) {
        this.backscatter = backscatter;
        this.trap = trap;
        this.mailFrom = mailFrom;
        this.trapKind = trapKind;
        this.trustedRelays = trustedRelays;
    }

    String trap() {
        return trap;
    }

    String mailFrom() {
        return mailFrom;
    }

    /** A bounce (null sender) with {@code bounces=evidence}: evidence, nobody is listed. */
    boolean backscatter() {
        return backscatter;
    }

    String trapKind() {
        return trapKind;
    }

    Allowlist trustedRelays() {
        return trustedRelays;
    }
}
