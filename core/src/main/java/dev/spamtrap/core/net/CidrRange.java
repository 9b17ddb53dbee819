package dev.spamtrap.core.net;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 prefix such as {@code 192.0.2.0/24} or {@code 2001:db8::/32}; a bare address is a
 * single-host range. Parsed without DNS: a host name is refused, never looked up.
 */
public final class CidrRange {
    private final byte[] network;
    private final int prefixLength;

    private CidrRange(byte[] network, int prefixLength) {
        this.network = network;
        this.prefixLength = prefixLength;
    }

    /** @throws IllegalArgumentException naming the bad text and why */
    public static CidrRange parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        String addressPart = slash < 0 ? t : t.substring(0, slash);
        byte[] address = literal(addressPart)
            .orElseThrow(() -> new IllegalArgumentException("'" + text + "' is not an IPv4 or IPv6 address or prefix"));
        int max = address.length * 8;
        int length = max;
        if (slash >= 0) {
            String lengthPart = t.substring(slash + 1);
            try {
                length = Integer.parseInt(lengthPart);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' has a bad prefix length '" + lengthPart + "'");
            }
            if (length < 0 || length > max) {
                throw new IllegalArgumentException("'" + text + "' has prefix length " + length + ", allowed 0.." + max);
            }
        }
        return new CidrRange(AddressBits.mask(address, length), length);
    }

    /** Parses an IP literal without ever resolving a name. */
    public static java.util.Optional<byte[]> literal(String text) {
        String t = text.trim();
        if (t.startsWith("[") && t.endsWith("]")) {
            t = t.substring(1, t.length() - 1);
        }
        if (t.isEmpty()) {
            return java.util.Optional.empty();
        }
        boolean v4 = true;
        boolean v6 = t.indexOf(':') >= 0;
        for (int i = 0; i < t.length() && (v4 || v6); i++) {
            char c = t.charAt(i);
            v4 &= Character.isDigit(c) || c == '.';
            v6 &= Character.digit(c, 16) >= 0 || c == ':' || c == '.';
        }
        if (v4) {
            // four dot-separated parts of one to three digits, each at most 255 (no split: this parses a million rows at once)
            byte[] b = new byte[4];
            int part = 0;
            int digits = 0;
            int value = 0;
            for (int i = 0; i <= t.length(); i++) {
                if (i == t.length() || t.charAt(i) == '.') {
                    if (digits == 0 || part == 4) {
                        return java.util.Optional.empty();
                    }
                    b[part++] = (byte) value;
                    digits = 0;
                    value = 0;
                    continue;
                }
                value = value * 10 + Character.digit(t.charAt(i), 10);
                if (++digits > 3 || value > 255) {
                    return java.util.Optional.empty();
                }
            }
            return part == 4 ? java.util.Optional.of(b) : java.util.Optional.empty();
        }
        if (v6) {
            try {
                // Only hex digits, ':' and '.' reach here, so this never does a DNS lookup.
                byte[] b = InetAddress.getByName(t).getAddress();
                return java.util.Optional.of(b);
            } catch (UnknownHostException e) {
                return java.util.Optional.empty();
            }
        }
        return java.util.Optional.empty();
    }

    /** Whether the two ranges share an address: same family, and one holds the other's network. */
    public boolean overlaps(CidrRange other) {
        return network.length == other.network.length && (contains(other.network) || other.contains(network));
    }

    public boolean contains(InetAddress address) {
        return contains(address.getAddress());
    }

    public boolean contains(byte[] address) {
        byte[] a = address;
        if (network.length == 4 && AddressBits.isV4Mapped(a)) {
            a = Arrays.copyOfRange(a, 12, 16);
        }
        if (a.length != network.length) {
            return false;
        }
        return AddressBits.samePrefix(a, network, prefixLength);
    }

    public boolean isIpv6() {
        return network.length == 16;
    }

    /** The network's bytes (host bits zero); a copy. */
    public byte[] network() {
        return network.clone();
    }

    public int prefixLength() {
        return prefixLength;
    }

    @Override
    /** The one spelling of this prefix (network in {@link IpAddresses#canonical} form, then the length), e.g. {@code 2001:db8::/64}. */
    public String toString() {
        try {
            return IpAddresses.canonical(InetAddress.getByAddress(network)) + "/" + prefixLength;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CidrRange && ((CidrRange) o).prefixLength == prefixLength && Arrays.equals(((CidrRange) o).network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefixLength;
    }
}
