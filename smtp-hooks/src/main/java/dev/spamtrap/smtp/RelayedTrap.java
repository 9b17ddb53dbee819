package dev.spamtrap.smtp;

import dev.spamtrap.core.net.Allowlist;

/**
 * A trap recipient passed on by a trusted relay: who the offender is can only be read from the
 * {@code Received:} headers once the message is in, so the hit waits for the end of DATA.
 */
final class RelayedTrap {
    private final String trap;
    private final String mailFrom;
    private final Allowlist trustedRelays;

    RelayedTrap(String trap, String mailFrom, Allowlist trustedRelays) {
        this.trap = trap;
        this.mailFrom = mailFrom;
        this.trustedRelays = trustedRelays;
    }

    String trap() {
        return trap;
    }

    String mailFrom() {
        return mailFrom;
    }

    Allowlist trustedRelays() {
        return trustedRelays;
    }
}
