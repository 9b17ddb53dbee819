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
        boolean v4 = t.chars().allMatch(c -> Character.isDigit(c) || c == '.');
        boolean v6 = t.contains(":") && t.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.');
        if (v4) {
            String[] parts = t.split("\\.", -1);
            if (parts.length != 4) {
                return java.util.Optional.empty();
            }
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                if (parts[i].isEmpty() || parts[i].length() > 3) {
                    return java.util.Optional.empty();
                }
                int v = Integer.parseInt(parts[i]);
                if (v > 255) {
                    return java.util.Optional.empty();
                }
                b[i] = (byte) v;
            }
            return java.util.Optional.of(b);
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
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + prefixLength;
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
