package dev.spamtrap.core.offender;

import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.net.IpAddresses;
import dev.spamtrap.core.net.OffenderKeys;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;

/**
 * The connect-time picture of listed offenders: only each key, its expiry and its {@link Cause}, packed in primitive arrays
 * ({@link PackedExpiryMap}; 32-64 bytes per offender: 16 per slot, at most half full), one table per prefix length so a client is
 * found by longest-prefix match. The evidence (trap, HELO, MAIL FROM, counts) stays in Cassandra.
 *
 * <p>Keys are spelled as {@link OffenderKeys} spells them (an IPv4 address, an IPv6 /64 by default) or as
 * any CIDR prefix (an administrator's or an escalated range). Lookups of an IPv4 client neither lock nor
 * allocate unless the client is listed (then the {@link ActiveListing} answer is built); an IPv6 client costs
 * one 16-byte copy ({@code InetAddress.getAddress()}).
 *
 * <p>IPv6 prefixes longer than 64 bits are stored under a 64-bit mix of their bits: two different such
 * prefixes could in theory share a slot (probability about 2^-64 per pair).
 */
public final class OffenderView {
    private static final int V4_LENGTHS = 33;
    private static final int V6_LENGTHS = 129;

    private final Clock clock;
    private final OffenderKeys keys;
    private final PackedExpiryMap[] v4 = new PackedExpiryMap[V4_LENGTHS];
    private final PackedExpiryMap[] v6 = new PackedExpiryMap[V6_LENGTHS];
    /** Prefix lengths holding entries, longest first; replaced whole when a new length appears. */
    private volatile int[] v4Lengths = new int[0];
    private volatile int[] v6Lengths = new int[0];

    public OffenderView(Clock clock) {
        this(clock, OffenderKeys.DEFAULT);
    }

    public OffenderView(Clock clock, OffenderKeys keys) {
        this.clock = clock;
        this.keys = keys;
    }

    // ---- reads: lock-free ----

    /** Whether the client is covered by an active entry. Allocation-free for IPv4. */
    public boolean isListed(InetAddress client) {
        return findLength(client, nowSeconds()) >= 0;
    }

    /**
     * The active entry covering a client (its own key, else the longest listed prefix).
     */
    public Optional<ActiveListing> active(InetAddress client) {
        int now = nowSeconds();
        // one probe per prefix length in use, longest first, reading expiry and start together (the connect path);
        // an IPv4 miss allocates nothing
        if (client instanceof Inet4Address) {
            int bits = addressBits(client);
            for (int length : v4Lengths) {
                long entry = v4[length].entry(v4Key(bits, length));
                if ((int) (entry >>> 32) > now) {
                    return Optional.of(answer(keyFor(client, client.getAddress(), length), (int) (entry >>> 32), (int) entry));
                }
            }
            return Optional.empty();
        }
        byte[] raw = client.getAddress();
        for (int length : v6Lengths) {
            long entry = v6[length].entry(v6Key(raw, length));
            if ((int) (entry >>> 32) > now) {
                return Optional.of(answer(keyFor(client, raw, length), (int) (entry >>> 32), (int) entry));
            }
        }
        return Optional.empty();
    }

    /** The active entry stored under exactly this key (as written in Cassandra), if any. */
    public Optional<ActiveListing> active(String key) {
        long entry = entryOf(key);
        int expiry = (int) (entry >>> 32);
        return expiry > nowSeconds() ? Optional.of(answer(key, expiry, (int) entry)) : Optional.empty();
    }

    /**
     * True if {@code key} is listed past {@code until} (to the second), i.e. by something more than a listing that
     * ends then; with {@code until} null, true if it is listed at all. Lock-free.
     */
    public boolean listedBeyond(String key, Instant until) {
        int expiry = (int) (entryOf(key) >>> 32);
        return expiry > nowSeconds() && (until == null || expiry > toSeconds(until));
    }

    /** Expiry (high 32 bits) and meta (low 32 bits: cause and length) stored under exactly this key, from one probe; 0 if none. */
    private long entryOf(String key) {
        long[] slot = slotOf(key);
        if (slot == null) {
            return 0;
        }
        PackedExpiryMap map = slot[0] == 4 ? v4[(int) slot[1]] : v6[(int) slot[1]];
        return map == null ? 0 : map.entry(slot[2]);
    }

    private int findLength(InetAddress client, int now) {
        if (client instanceof Inet4Address) {
            int bits = addressBits(client);
            for (int length : v4Lengths) {
                if (v4[length].get(v4Key(bits, length)) > now) {
                    return length;
                }
            }
            return -1;
        }
        int[] lengths = v6Lengths;
        if (lengths.length == 0) {
            return -1;
        }
        byte[] raw = client.getAddress();
        for (int length : lengths) {
            if (v6[length].get(v6Key(raw, length)) > now) {
                return length;
            }
        }
        return -1;
    }

    // ---- writes: one writer at a time per table (the maps synchronise) ----

    /**
     * Lists {@code key} until {@code expiresAt}, or longer if it already is. Returns true if the entry is
     * new or now lasts longer. A malformed key is ignored (false).
     */
    public boolean put(String key, Instant expiresAt) {
        return put(key, expiresAt, clock.instant());
    }

    /** As {@link #put(String, Instant)}, the listing having started at {@code since} (for the refusal's %L). */
    public boolean put(String key, Instant expiresAt, Instant since) {
        return put(key, expiresAt, since, Cause.TRAP);
    }

    /**
     * Lists {@code key} until {@code expiresAt} for {@code cause}, the listing having started at {@code since}. A longer
     * listing wins, except across confidence classes: a trap-class listing replaces an active protocol-class one
     * (keeping the later end), a protocol-class listing never replaces an active trap-class one. Returns true if the
     * entry is new or changed.
     */
    public boolean put(String key, Instant expiresAt, Instant since, Cause cause) {
        long[] slot = slotOf(key);
        if (slot == null) {
            return false;
        }
        int expiry = toSeconds(expiresAt);
        // the listing's length to the nearest second (the expiry is rounded up to a whole second, the start is not)
        long length = Math.max(0, Math.min(expiry - 1L, (java.time.Duration.between(since, expiresAt).toMillis() + 500) / 1000));
        return map(slot, true).putMax(slot[2], expiry, PackedExpiryMap.meta(cause, length), nowSeconds());
    }

    /** Puts a record (only its key, expiry, cause and listing start, its last hit, are kept). */
    public boolean put(Offender offender) {
        return put(offender.key(), offender.expiresAt(), offender.lastHit() != null ? offender.lastHit() : clock.instant(), offender.cause());
    }

    /** Removes {@code key}; true if it was active. */
    public boolean remove(String key) {
        long[] slot = slotOf(key);
        if (slot == null) {
            return false;
        }
        PackedExpiryMap map = map(slot, false);
        return map != null && map.remove(slot[2]) > nowSeconds();
    }

    /** Drops expired entries (frees their slots). */
    public void purgeExpired() {
        int now = nowSeconds();
        for (PackedExpiryMap m : v4) {
            if (m != null) {
                m.purge(now);
            }
        }
        for (PackedExpiryMap m : v6) {
            if (m != null) {
                m.purge(now);
            }
        }
    }

    /** Entries held (some may have expired since the last purge). */
    public long size() {
        long n = 0;
        for (PackedExpiryMap m : v4) {
            n += m == null ? 0 : m.size();
        }
        for (PackedExpiryMap m : v6) {
            n += m == null ? 0 : m.size();
        }
        return n;
    }

    /** Bytes held by the packed tables. */
    public long bytes() {
        long n = 0;
        for (PackedExpiryMap m : v4) {
            n += m == null ? 0 : m.bytes();
        }
        for (PackedExpiryMap m : v6) {
            n += m == null ? 0 : m.bytes();
        }
        return n;
    }

    private synchronized PackedExpiryMap map(long[] slot, boolean create) {
        int length = (int) slot[1];
        PackedExpiryMap[] maps = slot[0] == 4 ? v4 : v6;
        if (maps[length] == null && create) {
            maps[length] = new PackedExpiryMap(16);
            int[] lengths = slot[0] == 4 ? v4Lengths : v6Lengths;
            int[] next = new int[lengths.length + 1];
            int j = 0;
            boolean placed = false;
            for (int l : lengths) {
                if (!placed && length > l) {
                    next[j++] = length;
                    placed = true;
                }
                next[j++] = l;
            }
            if (!placed) {
                next[j] = length;
            }
            if (slot[0] == 4) {
                v4Lengths = next;
            } else {
                v6Lengths = next;
            }
        }
        return maps[length];
    }

    // ---- keys ----

    /** {family, prefix length, packed key} of a stored key, or null if it is not an address or prefix. */
    private long[] slotOf(String key) {
        CidrRange range;
        try {
            range = CidrRange.parse(key);
        } catch (IllegalArgumentException e) {
            return null;
        }
        byte[] net = range.network();
        int length = range.prefixLength();
        if (net.length == 4) {
            int bits = ((net[0] & 0xff) << 24) | ((net[1] & 0xff) << 16) | ((net[2] & 0xff) << 8) | (net[3] & 0xff);
            return new long[] {4, length, v4Key(bits, length)};
        }
        return new long[] {6, length, v6Key(net, length)};
    }

    private static int addressBits(InetAddress v4) {
        // Inet4Address.hashCode() is its address: no copy of the bytes.
        return v4.hashCode();
    }

    private static long v4Key(int bits, int length) {
        int masked = length == 0 ? 0 : bits & (-1 << (32 - length));
        return (1L << 40) | (masked & 0xffffffffL);
    }

    private static long v6Key(byte[] raw, int length) {
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 8; i++) {
            hi = (hi << 8) | (raw[i] & 0xff);
            lo = (lo << 8) | (raw[i + 8] & 0xff);
        }
        if (length <= 64) {
            hi = length == 0 ? 0 : hi & (-1L << (64 - length));
            // 0 marks an empty slot: the all-zero prefix (never a real client) shares slot 1
            return hi == 0 ? 1 : hi;
        }
        lo = length == 128 ? lo : lo & (-1L << (128 - length));
        long h = hi * 0x9E3779B97F4A7C15L + Long.rotateLeft(lo * 0xC2B2AE3D27D4EB4FL, 31);
        return h == 0 ? 1 : h;
    }

    private String keyFor(InetAddress client, byte[] raw, int length) {
        if (raw.length == 4 && length == 32) {
            return IpAddresses.canonical(client);
        }
        if (raw.length == 16 && length == keys.ipv6Prefix()) {
            return keys.keyOf(client);
        }
        try {
            return IpAddresses.canonical(InetAddress.getByAddress(dev.spamtrap.core.net.AddressBits.mask(raw, length))) + "/" + length;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The key, the expiry, the cause and when the listing started are what the view holds. */
    private static ActiveListing answer(String key, int expiry, int meta) {
        Instant end = Instant.ofEpochSecond(PackedExpiryMap.EPOCH + expiry);
        int length = PackedExpiryMap.lengthOf(meta);
        Instant start = meta != 0 ? end.minusSeconds(length) : null;
        return new ActiveListing(key, start, end, PackedExpiryMap.causeOf(meta));
    }

    private int nowSeconds() {
        return (int) (Math.floorDiv(clock.millis(), 1000L) - PackedExpiryMap.EPOCH);
    }

    static int toSeconds(Instant at) {
        long s = at.getEpochSecond() + (at.getNano() > 0 ? 1 : 0) - PackedExpiryMap.EPOCH;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, s));
    }
}
