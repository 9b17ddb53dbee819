package dev.spamtrap.core.blocklist;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Arrays;

/**
 * An immutable set of IPv4 and IPv6 address ranges, held as sorted primitive arrays of disjoint, merged ranges and
 * looked up by binary search: lock-free, no allocation beyond the address's own bytes, safe on a Netty event loop.
 *
 * <p>IPv4: one {@code long} per range, the first address in the high 32 bits and the last in the low 32 bits (both
 * unsigned), so a million ranges take 8 MB. IPv6: four {@code long}s per range (first address high and low 64 bits,
 * last address high and low 64 bits), 32 bytes a range. Ranges that touch or overlap are merged when built, so any
 * mix of addresses, prefixes and ranges that do not align to a prefix is kept exactly.
 *
 * <p>Built by {@link Builder}, whose arrays grow as a list is streamed in and are sorted and merged in place: a load
 * holds the builder's array (at most 1.5 times the entries) and the trimmed copy, never a second copy of the text.
 */
public final class AddressRanges {
    public static final AddressRanges EMPTY = new AddressRanges(new long[0], 0, new long[0], 0);
    private static final long LOW32 = 0xFFFF_FFFFL;

    /** IPv4 ranges: (first << 32) | last, sorted by first (unsigned, which the packing makes plain signed order after the flip). */
    private final long[] v4;
    private final int v4Count;
    /** IPv6 ranges: firstHi, firstLo, lastHi, lastLo per range, sorted by first (unsigned). */
    private final long[] v6;
    private final int v6Count;

    private AddressRanges(long[] v4, int v4Count, long[] v6, int v6Count) {
        this.v4 = v4;
        this.v4Count = v4Count;
        this.v6 = v6;
        this.v6Count = v6Count;
    }

    /** Whether {@code address} is in one of the ranges; an IPv4-mapped IPv6 address is looked up as IPv4. */
    public boolean contains(InetAddress address) {
        if (address instanceof Inet4Address) {
            return containsV4(toInt(address.getAddress(), 0));
        }
        byte[] b = address.getAddress();
        if (isV4Mapped(b)) {
            return containsV4(toInt(b, 12));
        }
        return containsV6(toLong(b, 0), toLong(b, 8));
    }

    /** Whether the IPv4 address (its 32 bits, as an int) is in one of the ranges. */
    public boolean containsV4(int address) {
        long a = address & LOW32;
        // the last range whose first address is <= a
        int lo = 0;
        int hi = v4Count - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long first = v4[mid] >>> 32;
            if (first <= a) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found >= 0 && a <= (v4[found] & LOW32);
    }

    /** Whether the IPv6 address (high and low 64 bits) is in one of the ranges. */
    public boolean containsV6(long high, long low) {
        int lo = 0;
        int hi = v6Count - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int at = mid * 4;
            if (compare(v6[at], v6[at + 1], high, low) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found < 0) {
            return false;
        }
        int at = found * 4;
        return compare(high, low, v6[at + 2], v6[at + 3]) <= 0;
    }

    /** Disjoint IPv4 ranges held (after merging). */
    public int ipv4Ranges() {
        return v4Count;
    }

    /** Disjoint IPv6 ranges held (after merging). */
    public int ipv6Ranges() {
        return v6Count;
    }

    /** All disjoint ranges held. */
    public int ranges() {
        return v4Count + v6Count;
    }

    /** The heap this set's arrays take, in bytes (array headers included). */
    public long bytes() {
        return 16L + v4.length * 8L + 16L + v6.length * 8L + 32L;
    }

    /** The i-th IPv4 range as {@code first-last} text (for tests and diagnostics). */
    String ipv4Range(int i) {
        return text4(v4[i] >>> 32) + "-" + text4(v4[i] & LOW32);
    }

    private static String text4(long a) {
        return ((a >>> 24) & 0xFF) + "." + ((a >>> 16) & 0xFF) + "." + ((a >>> 8) & 0xFF) + "." + (a & 0xFF);
    }

    /** Unsigned comparison of two 128-bit numbers. */
    static int compare(long aHi, long aLo, long bHi, long bLo) {
        int c = Long.compareUnsigned(aHi, bHi);
        return c != 0 ? c : Long.compareUnsigned(aLo, bLo);
    }

    static boolean isV4Mapped(byte[] b) {
        if (b.length != 16) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
    }

    static int toInt(byte[] b, int from) {
        return ((b[from] & 0xFF) << 24) | ((b[from + 1] & 0xFF) << 16) | ((b[from + 2] & 0xFF) << 8) | (b[from + 3] & 0xFF);
    }

    static long toLong(byte[] b, int from) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[from + i] & 0xFF);
        }
        return v;
    }

    /**
     * Collects ranges in any order, then sorts and merges them in place ({@link #build()}). Not thread-safe: one loader
     * thread fills it.
     */
    public static final class Builder {
        private long[] v4 = new long[1024];
        private int v4Count;
        private long[] v6 = new long[64];
        private int v6Count;

        /** Adds the IPv4 range first..last (unsigned 32-bit values as ints); first must not be above last. */
        public Builder addV4(int first, int last) {
            long f = first & LOW32;
            long l = last & LOW32;
            if (f > l) {
                throw new IllegalArgumentException("range ends before it starts");
            }
            if (v4Count == v4.length) {
                v4 = Arrays.copyOf(v4, grow(v4.length));
            }
            v4[v4Count++] = (f << 32) | l;
            return this;
        }

        /** Adds the IPv6 range first..last (each as high and low 64 bits, unsigned); first must not be above last. */
        public Builder addV6(long firstHi, long firstLo, long lastHi, long lastLo) {
            if (compare(firstHi, firstLo, lastHi, lastLo) > 0) {
                throw new IllegalArgumentException("range ends before it starts");
            }
            if (v6Count * 4 == v6.length) {
                v6 = Arrays.copyOf(v6, grow(v6.length));
            }
            int at = v6Count * 4;
            v6[at] = firstHi;
            v6[at + 1] = firstLo;
            v6[at + 2] = lastHi;
            v6[at + 3] = lastLo;
            v6Count++;
            return this;
        }

        /** Ranges added so far (before merging). */
        public int added() {
            return v4Count + v6Count;
        }

        private static int grow(int length) {
            long next = length + (length >> 1) + 16L;
            if (next > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("too many ranges in one list");
            }
            return (int) next;
        }

        /** Sorts, merges touching and overlapping ranges, and trims the arrays. The builder must not be used after. */
        public AddressRanges build() {
            // v4: first is in the high bits, unsigned; flipping the sign bit makes signed order the unsigned order
            for (int i = 0; i < v4Count; i++) {
                v4[i] ^= Long.MIN_VALUE;
            }
            Arrays.sort(v4, 0, v4Count);
            int n4 = 0;
            for (int i = 0; i < v4Count; i++) {
                long r = v4[i] ^ Long.MIN_VALUE;
                long first = r >>> 32;
                long last = r & LOW32;
                if (n4 > 0) {
                    long prevLast = v4[n4 - 1] & LOW32;
                    if (first <= prevLast + 1) {
                        if (last > prevLast) {
                            v4[n4 - 1] = (v4[n4 - 1] & ~LOW32) | last;
                        }
                        continue;
                    }
                }
                v4[n4++] = r;
            }
            sortV6(v6, v6Count);
            int n6 = 0;
            for (int i = 0; i < v6Count; i++) {
                int at = i * 4;
                long fHi = v6[at];
                long fLo = v6[at + 1];
                long lHi = v6[at + 2];
                long lLo = v6[at + 3];
                if (n6 > 0) {
                    int p = (n6 - 1) * 4;
                    // touching: first <= prevLast + 1 (prevLast + 1 overflows only at the very last address)
                    long nextLo = v6[p + 3] + 1;
                    long nextHi = nextLo == 0 ? v6[p + 2] + 1 : v6[p + 2];
                    boolean lastAddress = v6[p + 2] == -1L && v6[p + 3] == -1L;
                    if (lastAddress || compare(fHi, fLo, nextHi, nextLo) <= 0) {
                        if (compare(lHi, lLo, v6[p + 2], v6[p + 3]) > 0) {
                            v6[p + 2] = lHi;
                            v6[p + 3] = lLo;
                        }
                        continue;
                    }
                }
                int to = n6 * 4;
                v6[to] = fHi;
                v6[to + 1] = fLo;
                v6[to + 2] = lHi;
                v6[to + 3] = lLo;
                n6++;
            }
            AddressRanges built = new AddressRanges(Arrays.copyOf(v4, n4), n4, Arrays.copyOf(v6, n6 * 4), n6);
            v4 = null;
            v6 = null;
            return built;
        }

        /** Heap sort of 4-long records by their first two longs (unsigned): in place, no extra memory. */
        private static void sortV6(long[] a, int n) {
            for (int i = n / 2 - 1; i >= 0; i--) {
                siftDown(a, i, n);
            }
            for (int end = n - 1; end > 0; end--) {
                swap(a, 0, end);
                siftDown(a, 0, end);
            }
        }

        private static void siftDown(long[] a, int i, int n) {
            while (true) {
                int child = 2 * i + 1;
                if (child >= n) {
                    return;
                }
                if (child + 1 < n && less(a, child, child + 1)) {
                    child++;
                }
                if (!less(a, i, child)) {
                    return;
                }
                swap(a, i, child);
                i = child;
            }
        }

        private static boolean less(long[] a, int i, int j) {
            return compare(a[i * 4], a[i * 4 + 1], a[j * 4], a[j * 4 + 1]) < 0;
        }

        private static void swap(long[] a, int i, int j) {
            for (int k = 0; k < 4; k++) {
                long t = a[i * 4 + k];
                a[i * 4 + k] = a[j * 4 + k];
                a[j * 4 + k] = t;
            }
        }
    }
}
