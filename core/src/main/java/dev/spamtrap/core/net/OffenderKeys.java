package dev.spamtrap.core.net;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * How a client is named as an offender: an IPv4 address as itself, an IPv6 address by its prefix of
 * {@code offender.ipv6Prefix} bits (64 by default: a host usually owns a whole /64 and can pick a new
 * address in it for every connection), or by itself when that is 128.
 */
public final class OffenderKeys {
    public static final OffenderKeys DEFAULT = new OffenderKeys(64);

    private final int ipv6Prefix;

    public OffenderKeys(int ipv6Prefix) {
        if (ipv6Prefix < 32 || ipv6Prefix > 128) {
            throw new IllegalArgumentException("IPv6 offender prefix must be 32..128, got " + ipv6Prefix);
        }
        this.ipv6Prefix = ipv6Prefix;
    }

    /**
     * The client's key. A link-local, unspecified or multicast IPv6 source is its own key: its /64 is shared by every
     * host on the link ({@link IpAddresses#isGlobalSource}).
     */
    public String keyOf(InetAddress client) {
        String ip = IpAddresses.canonical(client);
        if (!(client instanceof Inet6Address) || ip.indexOf(':') < 0 || ipv6Prefix == 128 || !IpAddresses.isGlobalSource(client)) {
            return ip;
        }
        byte[] b = AddressBits.mask(client.getAddress(), ipv6Prefix);
        try {
            return IpAddresses.canonical(InetAddress.getByAddress(b)) + "/" + ipv6Prefix;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The key an administrator means by any spelling of an address or prefix: an address (also written as a /32 or
     * /128 prefix) is its client's key ({@code 2001:DB8:0::7} gives {@code 2001:db8::/64}); a prefix is its network in
     * the one spelling ({@code 2001:db8:0:0:0:0:0:0/64} and {@code 2001:db8::1/64} give {@code 2001:db8::/64}).
     *
     * @throws IllegalArgumentException naming the text, if it is neither
     */
    public String canonicalKey(String text) {
        String t = text.trim();
        CidrRange range = CidrRange.parse(t);
        int bits = range.network().length * 8;
        if (t.indexOf('/') >= 0 && range.prefixLength() < bits) {
            return range.toString();
        }
        try {
            return keyOf(InetAddress.getByAddress(range.network()));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address", e);
        }
    }

    /** Whether {@code key} is a key {@link #keyOf} can produce (so a hash lookup finds it). */
    public boolean isOwnKey(String key) {
        return key.indexOf(':') >= 0 && key.endsWith("/" + ipv6Prefix);
    }

    public int ipv6Prefix() {
        return ipv6Prefix;
    }
}
