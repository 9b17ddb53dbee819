package dev.spamtrap.core.store;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A set of keys that may answer "maybe" for a key never put (a Bloom filter, about 0.1 % per block) but never "no"
 * for a key put and not yet past its horizon: about 1.8 bytes per key, where an exact set of a month of clients
 * would take tens of bytes each.
 *
 * <p>Keys are filed by the week their horizon falls in; a week's filter is dropped whole once the week is over, so
 * a key is held until its horizon and at most a week longer. Each week grows by blocks of doubling size, so a
 * quiet installation holds a few kilobytes and a busy one never overfills a block. Thread-safe: bits are set
 * atomically, blocks are appended under the week's lock, reads never lock.
 */
final class HistoryFilter {
    static final long WEEK_SECONDS = 7 * 24 * 3600L;
    /** Bits per key and hash probes per key for about 0.1 % false answers per full block. */
    private static final double BITS_PER_KEY = 14.4;
    private static final int PROBES = 10;
    private static final int FIRST_BLOCK_KEYS = 1 << 14;

    private final ConcurrentSkipListMap<Long, Week> weeks = new ConcurrentSkipListMap<>();

    private static final class Block {
        final AtomicLongArray words;
        final long mask;
        final int capacity;
        final AtomicInteger keys = new AtomicInteger();

        Block(int capacity) {
            long bits = Long.highestOneBit((long) Math.ceil(capacity * BITS_PER_KEY) - 1) << 1;
            this.words = new AtomicLongArray((int) Math.max(1, bits >>> 6));
            this.mask = bits - 1;
            this.capacity = capacity;
        }

        boolean mightContain(long h1, long h2) {
            for (int i = 0; i < PROBES; i++) {
                long bit = (h1 + i * h2) & mask;
                if ((words.get((int) (bit >>> 6)) & (1L << bit)) == 0) {
                    return false;
                }
            }
            return true;
        }

        void add(long h1, long h2) {
            for (int i = 0; i < PROBES; i++) {
                long bit = (h1 + i * h2) & mask;
                int w = (int) (bit >>> 6);
                long m = 1L << bit;
                long old;
                while (((old = words.get(w)) & m) == 0 && !words.compareAndSet(w, old, old | m)) {
                    // another thread set a bit of the same word: try again
                }
            }
            keys.incrementAndGet();
        }

        long bytes() {
            return words.length() * 8L;
        }
    }

    private static final class Week {
        private volatile Block[] blocks = {new Block(FIRST_BLOCK_KEYS)};

        boolean mightContain(long h1, long h2) {
            for (Block b : blocks) {
                if (b.mightContain(h1, h2)) {
                    return true;
                }
            }
            return false;
        }

        void add(long h1, long h2) {
            if (mightContain(h1, h2)) {
                return;
            }
            Block[] bs = blocks;
            Block last = bs[bs.length - 1];
            if (last.keys.get() >= last.capacity) {
                synchronized (this) {
                    bs = blocks;
                    last = bs[bs.length - 1];
                    if (last.keys.get() >= last.capacity) {
                        Block[] grown = java.util.Arrays.copyOf(bs, bs.length + 1);
                        last = new Block((int) Math.min(1 << 26, last.capacity * 2L));
                        grown[bs.length] = last;
                        blocks = grown;
                    }
                }
            }
            last.add(h1, h2);
        }
    }

    /** Holds {@code key} until at least {@code horizonEpochSecond}. */
    void put(String key, long horizonEpochSecond) {
        long h = hash(key);
        weeks.computeIfAbsent(Math.floorDiv(horizonEpochSecond, WEEK_SECONDS), w -> new Week()).add(h, second(h));
    }

    /** False only if {@code key} was not put with a horizon after {@code nowEpochSecond}'s week began. */
    boolean mightContain(String key, long nowEpochSecond) {
        long h = hash(key);
        long h2 = second(h);
        for (Week w : weeks.tailMap(Math.floorDiv(nowEpochSecond, WEEK_SECONDS), true).values()) {
            if (w.mightContain(h, h2)) {
                return true;
            }
        }
        return false;
    }

    /** Drops the weeks that ended before {@code nowEpochSecond}'s week. */
    void purge(long nowEpochSecond) {
        weeks.headMap(Math.floorDiv(nowEpochSecond, WEEK_SECONDS), false).clear();
    }

    long keys() {
        long n = 0;
        for (Week w : weeks.values()) {
            for (Block b : w.blocks) {
                n += b.keys.get();
            }
        }
        return n;
    }

    long bytes() {
        long n = 0;
        for (Map.Entry<Long, Week> e : weeks.entrySet()) {
            for (Block b : e.getValue().blocks) {
                n += b.bytes();
            }
        }
        return n;
    }

    /** FNV-1a over the key's UTF-8 bytes, then a 64-bit finaliser (keys are short and alike: 10.0.0.1, 10.0.0.2 ...). */
    static long hash(String key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    private static long second(long h) {
        return mix(h ^ 0x9E3779B97F4A7C15L) | 1;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }
}
