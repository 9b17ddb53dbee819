package dev.spamtrap.core.store;

import java.time.Duration;

/**
 * When {@code addresses} distinct clients of one IPv4 /{@code v4Length} (or IPv6 /{@code v6Length}) hit
 * traps within {@code window}, the whole prefix is listed. {@code addresses} 0 turns it off.
 */
public final class PrefixEscalation {
    public static final PrefixEscalation OFF = new PrefixEscalation(0, Duration.ofHours(1), 24, 48);

    private final int addresses;
    private final Duration window;
    private final int v4Length;
    private final int v6Length;

    public PrefixEscalation(int addresses, Duration window, int v4Length, int v6Length) {
        this.addresses = addresses;
        this.window = window;
        this.v4Length = v4Length;
        this.v6Length = v6Length;
    }

    public boolean enabled() { return addresses > 0; }
    public int addresses() { return addresses; }
    public Duration window() { return window; }
    public int v4Length() { return v4Length; }
    public int v6Length() { return v6Length; }
}
