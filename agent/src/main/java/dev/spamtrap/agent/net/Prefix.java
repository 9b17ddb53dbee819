package dev.spamtrap.agent.net;

import dev.spamtrap.core.net.AddressBits;
import dev.spamtrap.core.net.CidrRange;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 address or prefix as the agent keeps it: network bytes (host bits zero) and a length.
 * Parsed with the core {@link CidrRange} rules (IP literals only, never DNS). Immutable, cheap to compare.
 */
public final class Prefix {
    private final byte[] network;
    private final int length;
    private final int hash;

    private Prefix(byte[] network, int length) {
        this.network = network;
        this.length = length;
        this.hash = mix(network, length);
    }

    /**
     * A well-spread hash. {@code Arrays.hashCode} of four signed bytes takes only a few million values with long
     * runs of equal ones over neighbouring addresses, so a million of them collided into tree bins and every lookup
     * of a reconcile walked a tree (measured: most of its time).
     */
    private static int mix(byte[] network, int length) {
        long h = length;
        for (int i = 0; i < network.length; i += 4) {
            int word = (network[i] & 0xff) << 24 | (network[i + 1] & 0xff) << 16 | (network[i + 2] & 0xff) << 8 | (network[i + 3] & 0xff);
            h = (h ^ (word & 0xffffffffL)) * 0x9E3779B97F4A7C15L;
            h ^= h >>> 29;
        }
        return (int) (h ^ (h >>> 32));
    }

    /** @throws IllegalArgumentException naming the text when it is not an address or prefix */
    public static Prefix parse(String text) {
        Prefix host = plainIpv4(text);
        if (host != null) {
            return host;
        }
        CidrRange range = CidrRange.parse(text);
        return new Prefix(range.network(), range.prefixLength());
    }

    /**
     * The common case of a reconcile (a million rows) without the general parser's copies: exactly four ASCII
     * parts of one to three digits, each at most 255, nothing else. Anything else returns null and goes the general way.
     */
    private static Prefix plainIpv4(String text) {
        long bits = plainIpv4Bits(text);
        return bits < 0 ? null : ipv4Host((int) bits);
    }

    /**
     * The bits of a plain dotted-quad IPv4 address (exactly four ASCII parts of one to three digits, each at most
     * 255, nothing else) as a non-negative long, or -1 for any other text (which {@link #parse} may still accept).
     * Makes no object: a reconcile reads a million of them.
     */
    public static long plainIpv4Bits(String text) {
        int n = text.length();
        if (n < 7 || n > 15) {
            return -1;
        }
        int bits = 0;
        int part = 0;
        int digits = 0;
        int value = 0;
        for (int i = 0; i <= n; i++) {
            char c = i == n ? '.' : text.charAt(i);
            if (c == '.') {
                if (digits == 0 || part == 4) {
                    return -1;
                }
                bits = bits << 8 | value;
                part++;
                digits = 0;
                value = 0;
            } else if (c >= '0' && c <= '9' && digits < 3) {
                value = value * 10 + (c - '0');
                digits++;
                if (value > 255) {
                    return -1;
                }
            } else {
                return -1;
            }
        }
        return part == 4 ? bits & 0xffffffffL : -1;
    }

    public static Prefix of(InetAddress address) {
        byte[] b = address.getAddress();
        return new Prefix(b, b.length * 8);
    }

    public static Prefix of(byte[] address, int length) {
        return new Prefix(AddressBits.mask(address, length), length);
    }

    /** The address of an IPv4 prefix as an int (big-endian). */
    public int ipv4Bits() {
        return (network[0] & 0xff) << 24 | (network[1] & 0xff) << 16 | (network[2] & 0xff) << 8 | (network[3] & 0xff);
    }

    /** The single IPv4 address whose bits are {@code bits}. */
    public static Prefix ipv4Host(int bits) {
        return new Prefix(new byte[] {(byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits}, 32);
    }

    /** A copy of the network address bytes (4 or 16). */
    public byte[] networkBytes() {
        return network.clone();
    }

    public boolean isIpv6() {
        return network.length == 16;
    }

    public int length() {
        return length;
    }

    public int maxLength() {
        return network.length * 8;
    }

    public boolean isHost() {
        return length == maxLength();
    }

    /** This prefix cut down to a shorter length. */
    public Prefix truncate(int shorter) {
        return new Prefix(AddressBits.mask(network, shorter), shorter);
    }

    /** True when one contains the other (same family). */
    public boolean overlaps(Prefix other) {
        if (other.network.length != network.length) {
            return false;
        }
        return AddressBits.samePrefix(network, other.network, Math.min(length, other.length));
    }

    /** True when {@code other} lies inside this prefix. */
    public boolean contains(Prefix other) {
        return other.network.length == network.length && other.length >= length && AddressBits.samePrefix(network, other.network, length);
    }

    public String address() {
        if (network.length == 4) {
            // the common case, written directly: every live command, script line and reply names its address
            StringBuilder b = new StringBuilder(15);
            for (int i = 0; i < 4; i++) {
                if (i > 0) {
                    b.append('.');
                }
                b.append(network[i] & 0xff);
            }
            return b.toString();
        }
        try {
            return InetAddress.getByAddress(network).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code 192.0.2.7} for a host, {@code 192.0.2.0/24} for a prefix: the form nft, ipset and pfctl accept. */
    @Override
    public String toString() {
        return isHost() ? address() : address() + "/" + length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Prefix && ((Prefix) o).length == length && Arrays.equals(((Prefix) o).network, network);
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
