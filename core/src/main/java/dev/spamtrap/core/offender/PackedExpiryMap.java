package dev.spamtrap.core.offender;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A packed open-addressing map from a non-zero {@code long} key to an expiry in seconds (an {@code int}
 * relative to {@link #EPOCH}) and a second {@code int}, the listing's meta: its {@link Cause#code()} in the top
 * 5 bits and its length in seconds (expiry minus start, for the refusal's {@code %L}; at most about 4 years) in
 * the low 27. A slot is two adjacent {@code long}s of one array, the key and the value (expiry in the high 32 bits,
 * meta in the low 32): 16 bytes per slot, no object per entry, and one array per table, so a large table wastes at
 * most one heap region's tail (G1 rounds each array larger than half a region up to whole regions). One writer at a
 * time (callers synchronise writes); readers never lock and never allocate. Writers publish the value before the key
 * (release/acquire), a value is one {@code long} (expiry and meta never tear), and a grown table is published as a
 * whole, so a reader sees either an old or a new complete entry. Removal sets the value to 0 (a tombstone the next
 * growth drops).
 */
final class PackedExpiryMap {
    /** Expiries are stored as seconds since this instant (2020-09-13), which fits an int until 2088. */
    static final long EPOCH = 1_600_000_000L;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
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

    private static long value(int expiry, int meta) {
        return (long) expiry << 32 | (meta & 0xffffffffL);
    }

    private static final class Table {
        /** Slot i: key at 2i, value (expiry, meta) at 2i + 1. */
        final long[] slots;
        final int mask;

        Table(int capacity) {
            slots = new long[capacity * 2];
            mask = capacity - 1;
        }

        int capacity() {
            return mask + 1;
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
        long[] slots = t.slots;
        int i = slot(key, t.mask);
        while (true) {
            long k = (long) LONGS.getAcquire(slots, 2 * i);
            if (k == key) {
                return (long) LONGS.getAcquire(slots, 2 * i + 1);
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
        long[] slots = t.slots;
        int i = slot(key, t.mask);
        int rank = causeOf(meta).rank();
        while (true) {
            long k = slots[2 * i];
            if (k == key) {
                long current = slots[2 * i + 1];
                int old = (int) (current >>> 32);
                boolean oldActive = old > nowSeconds;
                int oldRank = causeOf((int) current).rank();
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
                    LONGS.setRelease(slots, 2 * i + 1, value(expiry, meta));
                }
                return replace;
            }
            if (k == 0) {
                break;
            }
            i = (i + 1) & t.mask;
        }
        if ((used + 1) * 2L > t.capacity()) {
            grow();
            return putMax(key, expiry, meta, nowSeconds);
        }
        LONGS.setRelease(slots, 2 * i + 1, value(expiry, meta));
        LONGS.setRelease(slots, 2 * i, key);
        used++;
        live++;
        return true;
    }

    /** Removes {@code key}; returns its previous expiry (0 if none). */
    synchronized int remove(long key) {
        Table t = table;
        int i = slot(key, t.mask);
        while (true) {
            long k = t.slots[2 * i];
            if (k == key) {
                int old = (int) (t.slots[2 * i + 1] >>> 32);
                if (old != 0) {
                    live--;
                    LONGS.setRelease(t.slots, 2 * i + 1, 0L);
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
        long[] from = old.slots;
        int keep = 0;
        for (int i = 0; i < from.length; i += 2) {
            if (from[i] != 0 && (int) (from[i + 1] >>> 32) > nowSeconds) {
                keep++;
            }
        }
        Table next = new Table(capacityFor(Math.max(keep + 1, 8) * 2));
        long[] to = next.slots;
        for (int i = 0; i < from.length; i += 2) {
            long k = from[i];
            if (k != 0 && (int) (from[i + 1] >>> 32) > nowSeconds) {
                int j = slot(k, next.mask);
                while (to[2 * j] != 0) {
                    j = (j + 1) & next.mask;
                }
                to[2 * j] = k;
                to[2 * j + 1] = from[i + 1];
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

    /** Bytes held by the table (its array and header, the table object). */
    long bytes() {
        Table t = table;
        return 16L + 8L * t.slots.length + 24;
    }

    /** Visits every entry not removed; called by the writer side only. */
    synchronized void forEach(EntryVisitor visitor) {
        long[] slots = table.slots;
        for (int i = 0; i < slots.length; i += 2) {
            int expiry = (int) (slots[i + 1] >>> 32);
            if (slots[i] != 0 && expiry != 0) {
                visitor.visit(slots[i], expiry, (int) slots[i + 1]);
            }
        }
    }

    interface EntryVisitor {
        void visit(long key, int expiry, int meta);
    }
}
