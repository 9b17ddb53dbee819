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
        this.hash = Arrays.hashCode(network) * 31 + length;
    }

    /** @throws IllegalArgumentException naming the text when it is not an address or prefix */
    public static Prefix parse(String text) {
        CidrRange range = CidrRange.parse(text);
        return new Prefix(range.network(), range.prefixLength());
    }

    public static Prefix of(InetAddress address) {
        byte[] b = address.getAddress();
        return new Prefix(b, b.length * 8);
    }

    public static Prefix of(byte[] address, int length) {
        return new Prefix(AddressBits.mask(address, length), length);
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
