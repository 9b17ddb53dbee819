package dev.spamtrap.core.net;

import java.util.Arrays;

/** Bit-level helpers on raw IPv4/IPv6 address bytes, shared by every prefix type in the project. */
public final class AddressBits {
    private AddressBits() {
    }

    /** A copy of {@code address} with every bit after the first {@code length} cleared. */
    public static byte[] mask(byte[] address, int length) {
        byte[] out = Arrays.copyOf(address, address.length);
        for (int bit = length; bit < out.length * 8; bit++) {
            out[bit / 8] &= (byte) ~(0x80 >> (bit % 8));
        }
        return out;
    }

    /** Whether the first {@code bits} bits of {@code a} and {@code b} are equal (no allocation). */
    public static boolean samePrefix(byte[] a, byte[] b, int bits) {
        int full = bits / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != b[i]) {
                return false;
            }
        }
        int rest = bits % 8;
        if (rest == 0) {
            return true;
        }
        int m = (0xff << (8 - rest)) & 0xff;
        return (a[full] & m) == (b[full] & m);
    }

    /** An IPv4 address written as IPv6 ({@code ::ffff:a.b.c.d}). */
    public static boolean isV4Mapped(byte[] b) {
        if (b.length != 16) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }
}
