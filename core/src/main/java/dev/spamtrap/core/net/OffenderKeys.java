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

    public String keyOf(InetAddress client) {
        String ip = IpAddresses.canonical(client);
        if (!(client instanceof Inet6Address) || ip.indexOf(':') < 0 || ipv6Prefix == 128) {
            return ip;
        }
        byte[] b = AddressBits.mask(client.getAddress(), ipv6Prefix);
        try {
            return IpAddresses.canonical(InetAddress.getByAddress(b)) + "/" + ipv6Prefix;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
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
