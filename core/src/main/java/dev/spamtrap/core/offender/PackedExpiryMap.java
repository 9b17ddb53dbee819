package dev.spamtrap.core.offender;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A packed open-addressing map from a non-zero {@code long} key to an expiry in seconds (an {@code int}
 * relative to {@link #EPOCH}) and a second {@code int}, the listing's meta: its {@link Cause#code()} in the top
 * 5 bits and its length in seconds (expiry minus start, for the refusal's {@code %L}; at most about 4 years) in
 * the low 27: 16 bytes per slot, no object per entry. One writer at a time (callers
 * synchronise writes); readers never lock and never allocate. Writers publish the expiry before the key
 * (release/acquire), and a grown table is published as a whole, so a reader sees either an old or a new
 * complete entry. Removal sets the expiry to 0 (a tombstone the next growth drops).
 */
final class PackedExpiryMap {
    /** Expiries are stored as seconds since this instant (2020-09-13), which fits an int until 2088. */
    static final long EPOCH = 1_600_000_000L;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final int LENGTH_BITS = 27;
    private static final int MAX_LENGTH = (1 << LENGTH_BITS) - 1;

    /** The meta word of a listing of {@code cause} lasting {@code lengthSeconds}. */
    static int meta(Cause cause, long lengthSeconds) {
        return cause.code() << LENGTH_BITS | (int) Math.max(0, Math.min(MAX_LENGTH, lengthSeconds));
    }

    /** The cause kept in a meta word ({@link Cause#TRAP} for 0). */
    static Cause causeOf(int meta) {
        return Cause.ofCode(meta >>> LENGTH_BITS);
    }

    /** The listing length in seconds kept in a meta word. */
    static int lengthOf(int meta) {
        return meta & MAX_LENGTH;
    }

    private static final class Table {
        final long[] keys;
        final int[] expiries;
        final int[] since;
        final int mask;

        Table(int capacity) {
            keys = new long[capacity];
            expiries = new int[capacity];
            since = new int[capacity];
            mask = capacity - 1;
        }
    }

    private volatile Table table;
    private int used;
    private int live;

    PackedExpiryMap(int expected) {
        table = new Table(capacityFor(expected));
    }

    private static int capacityFor(int n) {
        int c = 16;
        while (c < n * 2L) {
            c <<= 1;
        }
        return c;
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    /** The expiry (seconds since {@link #EPOCH}) of {@code key}, 0 when absent. Lock-free, allocation-free. */
    int get(long key) {
        return (int) (entry(key) >>> 32);
    }

    /** Expiry (high 32 bits) and meta (low 32 bits) of {@code key} from one probe; 0 when absent. Lock-free. */
    long entry(long key) {
        Table t = table;
        long[] keys = t.keys;
        int i = slot(key, t.mask);
        while (true) {
            long k = (long) LONGS.getAcquire(keys, i);
            if (k == key) {
                return (long) (int) INTS.getAcquire(t.expiries, i) << 32 | ((int) INTS.getAcquire(t.since, i) & 0xffffffffL);
            }
            if (k == 0) {
                return 0;
            }
            i = (i + 1) & t.mask;
        }
    }

    /**
     * Sets {@code key}'s expiry to {@code max(current, expiry)}, a longer listing also taking its meta; but across
     * {@link Cause#rank()}s, while the current entry is active, the higher rank wins whatever the ends (a trap-class
     * listing replaces a protocol-class one and keeps the later end; a protocol-class listing never replaces a
     * trap-class one). Returns whether the entry is new or changed.
     */
    synchronized boolean putMax(long key, int expiry, int meta, int nowSeconds) {
        Table t = table;
        int i = slot(key, t.mask);
        int rank = causeOf(meta).rank();
        while (true) {
            long k = t.keys[i];
            if (k == key) {
                int old = t.expiries[i];
                boolean oldActive = old > nowSeconds;
                int oldRank = causeOf(t.since[i]).rank();
                boolean replace;
                if (oldActive && rank < oldRank) {
                    replace = false;
                } else if (oldActive && rank > oldRank) {
                    replace = true;
                    expiry = Math.max(expiry, old);
                } else {
                    replace = expiry > old;
                }
                if (replace) {
                    if (old == 0) {
                        live++;
                    }
                    INTS.setRelease(t.since, i, meta);
                    INTS.setRelease(t.expiries, i, expiry);
                }
                return replace;
            }
            if (k == 0) {
                break;
            }
            i = (i + 1) & t.mask;
        }
        if ((used + 1) * 2L > t.keys.length) {
            grow();
            return putMax(key, expiry, meta, nowSeconds);
        }
        INTS.setRelease(t.since, i, meta);
        INTS.setRelease(t.expiries, i, expiry);
        LONGS.setRelease(t.keys, i, key);
        used++;
        live++;
        return true;
    }

    /** Removes {@code key}; returns its previous expiry (0 if none). */
    synchronized int remove(long key) {
        Table t = table;
        int i = slot(key, t.mask);
        while (true) {
            long k = t.keys[i];
            if (k == key) {
                int old = t.expiries[i];
                if (old != 0) {
                    live--;
                    INTS.setRelease(t.expiries, i, 0);
                }
                return old;
            }
            if (k == 0) {
                return 0;
            }
            i = (i + 1) & t.mask;
        }
    }

    /** Drops entries expired at {@code nowSeconds} by rebuilding the table (also clears tombstones). */
    synchronized void purge(int nowSeconds) {
        rebuild(nowSeconds);
    }

    private void grow() {
        rebuild(0);
    }

    private void rebuild(int nowSeconds) {
        Table old = table;
        int keep = 0;
        for (int i = 0; i < old.keys.length; i++) {
            if (old.keys[i] != 0 && old.expiries[i] > nowSeconds) {
                keep++;
            }
        }
        Table next = new Table(capacityFor(Math.max(keep + 1, 8) * 2));
        for (int i = 0; i < old.keys.length; i++) {
            long k = old.keys[i];
            int e = old.expiries[i];
            if (k != 0 && e > nowSeconds) {
                int j = slot(k, next.mask);
                while (next.keys[j] != 0) {
                    j = (j + 1) & next.mask;
                }
                next.keys[j] = k;
                next.expiries[j] = e;
                next.since[j] = old.since[i];
            }
        }
        used = keep;
        live = keep;
        table = next;
    }

    /** Entries not removed (some may have expired since). */
    synchronized int size() {
        return live;
    }

    /** Bytes held by the arrays. */
    long bytes() {
        Table t = table;
        return 16L + 16L * t.keys.length + 48;
    }

    /** Visits every entry not removed; called by the writer side only. */
    synchronized void forEach(EntryVisitor visitor) {
        Table t = table;
        for (int i = 0; i < t.keys.length; i++) {
            if (t.keys[i] != 0 && t.expiries[i] != 0) {
                visitor.visit(t.keys[i], t.expiries[i], t.since[i]);
            }
        }
    }

    interface EntryVisitor {
        void visit(long key, int expiry, int meta);
    }
}
