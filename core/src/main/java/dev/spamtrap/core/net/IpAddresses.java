package dev.spamtrap.core.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * The one spelling of an IP address used as a key everywhere (Cassandra rows, the local view, firewall
 * commands): dotted quad for IPv4 (also for IPv4-mapped IPv6), RFC 5952 compressed lower case for IPv6,
 * without a zone id. Java's own {@code getHostAddress()} writes IPv6 uncompressed, which would make
 * {@code 2001:db8::1} and {@code 2001:db8:0:0:0:0:0:1} two different offenders.
 */
public final class IpAddresses {
    private IpAddresses() {
    }

    public static String canonical(InetAddress address) {
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            return address.getHostAddress();
        }
        if (AddressBits.isV4Mapped(b)) {
            return (b[12] & 0xff) + "." + (b[13] & 0xff) + "." + (b[14] & 0xff) + "." + (b[15] & 0xff);
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        // Longest run of at least two zero groups (first one on ties) becomes "::".
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(groups[i]));
        }
        return sb.toString();
    }

    /** Parses an IP literal (never DNS) and returns its canonical spelling. */
    public static String canonical(String literal) {
        byte[] raw = CidrRange.literal(literal)
            .orElseThrow(() -> new IllegalArgumentException("'" + literal + "' is not an IPv4 or IPv6 address"));
        try {
            return canonical(InetAddress.getByAddress(raw));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /**
     * Whether an address can be a client's own, globally routed source: not link-local ({@code fe80::/10},
     * {@code 169.254.0.0/16}), not the unspecified address, not multicast. Such sources are never widened to a prefix
     * (every host on every link has an {@code fe80::/64}) and never sent to the firewall.
     */
    public static boolean isGlobalSource(InetAddress address) {
        return !(address.isLinkLocalAddress() || address.isAnyLocalAddress() || address.isMulticastAddress());
    }
}
