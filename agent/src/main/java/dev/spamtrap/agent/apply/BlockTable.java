package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.net.Prefix;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The agent's view of what is in the firewall sets: prefix, when it expires, when the agent last changed it, and
 * the reconcile round that last saw it in the store. Expired entries are treated as absent (the kernel has dropped
 * them). Knows which prefix lengths are in use so that "is this address already inside a blocked prefix?" costs a
 * few lookups.
 * <p>
 * Single IPv4 addresses, nearly every entry, live in {@link Hosts4}: one long array with open addressing,
 * 16 bytes a slot, no object per entry (a map of objects took 110 bytes per entry at a million). Every other prefix
 * (IPv6, networks) is in a plain map. When the agent last changed an entry is kept to the second, rounded up: every
 * comparison with it then errs towards "changed recently", which keeps a live change rather than judge it early.
 * Not thread-safe: owned by the applier thread.
 */
final class BlockTable {
    /** One entry's values as read (a copy, not a handle). */
    static final class Entry {
        final long expiresAt;
        final long changedAt;
        final int seen;

        Entry(long expiresAt, long changedAt, int seen) {
            this.expiresAt = expiresAt;
            this.changedAt = changedAt;
            this.seen = seen;
        }
    }

    /** Where {@link #forEach} stands: the entry's values, its prefix (made on demand), and a way to mark it seen. */
    abstract static class Cursor {
        long expiresAt;
        long changedAt;
        int seen;

        abstract Prefix prefix();

        abstract void markSeen(int round);
    }

    /** An entry of {@link #others}. */
    private static final class Slot {
        long expiresAt;
        long changedAt;
        int seen;

        Slot(long expiresAt, long changedAt, int seen) {
            this.expiresAt = expiresAt;
            this.changedAt = changedAt;
            this.seen = seen;
        }
    }

    private Hosts4 hosts = new Hosts4();
    private Map<Prefix, Slot> others = new HashMap<>();
    private final int[] lengths4 = new int[33];
    private final int[] lengths6 = new int[129];
    /** Counts changes to the view: the saved view is rewritten only when this moved. */
    private long changes;

    private int[] lengths(Prefix p) {
        return p.isIpv6() ? lengths6 : lengths4;
    }

    /** Single IPv4 addresses other than 0.0.0.0 (0 marks a free slot) go to {@link #hosts}. */
    private static boolean isHost4(Prefix p) {
        return !p.isIpv6() && p.length() == 32 && p.ipv4Bits() != 0;
    }

    static long secondsUp(long millis) {
        return millis <= 0 ? 0 : (millis + 999) / 1000;
    }

    Entry get(Prefix p, long now) {
        Entry e = peek(p);
        if (e != null && e.expiresAt <= now) {
            remove(p);
            return null;
        }
        return e;
    }

    private Entry peek(Prefix p) {
        if (isHost4(p)) {
            int at = hosts.find(p.ipv4Bits());
            return at < 0 ? null : new Entry(hosts.expires(at), Hosts4.millis(hosts.changed(at)), hosts.seen(at));
        }
        Slot s = others.get(p);
        return s == null ? null : new Entry(s.expiresAt, s.changedAt, s.seen);
    }

    /** Puts or replaces the entry for {@code p}, not yet seen by any reconcile round. */
    void put(Prefix p, long expiresAt, long changedAt) {
        put(p, expiresAt, changedAt, 0);
    }

    void put(Prefix p, long expiresAt, long changedAt, int seen) {
        changes++;
        boolean added;
        if (isHost4(p)) {
            added = hosts.put(p.ipv4Bits(), expiresAt, Hosts4.seconds(changedAt), seen);
        } else {
            added = others.put(p, new Slot(expiresAt, secondsUp(changedAt) * 1000, seen)) == null;
        }
        if (added) {
            lengths(p)[p.length()]++;
        }
    }

    /** Puts a single IPv4 address (not 0.0.0.0) by its bits: loading a saved view makes no object per address. */
    void putHost4(int address, long expiresAt, long changedAt) {
        changes++;
        if (hosts.put(address, expiresAt, Hosts4.seconds(changedAt), 0)) {
            lengths4[32]++;
        }
    }

    /**
     * Marks the live entry for {@code p} as seen by reconcile round {@code round} and returns what it held before
     * (its previous round included), in one lookup; null (nothing marked) when there is none or it expired.
     */
    Entry markSeen(Prefix p, long round, long now) {
        if (isHost4(p)) {
            int at = hosts.find(p.ipv4Bits());
            if (at < 0) {
                return null;
            }
            if (hosts.expires(at) <= now) {
                remove(p);
                return null;
            }
            Entry before = new Entry(hosts.expires(at), Hosts4.millis(hosts.changed(at)), hosts.seen(at));
            hosts.setSeen(at, (int) round);
            return before;
        }
        Slot s = others.get(p);
        if (s == null) {
            return null;
        }
        if (s.expiresAt <= now) {
            remove(p);
            return null;
        }
        Entry before = new Entry(s.expiresAt, s.changedAt, s.seen);
        s.seen = (int) round;
        return before;
    }

    // Single IPv4 addresses by their bits and slot, for the reconcile planner: no object per probe. A slot stays
    // valid until the next structural change (put of a new address, remove).

    /** The slot of the single IPv4 address {@code address} (not 0), expired or not, or -1. */
    int findHost4(int address) {
        return hosts.find(address);
    }

    long host4Expires(int slot) {
        return hosts.expires(slot);
    }

    long host4ChangedAt(int slot) {
        return Hosts4.millis(hosts.changed(slot));
    }

    int host4Seen(int slot) {
        return hosts.seen(slot);
    }

    void setHost4Seen(int slot, int round) {
        hosts.setSeen(slot, round);
    }

    /** Replaces the lifetime and round of the address in {@code slot}, keeping its last change. */
    void setHost4(int slot, long expiresAt, int round) {
        changes++;
        hosts.set(slot, hosts.key(slot), hosts.changed(slot), expiresAt, round);
    }

    /** Puts a single IPv4 address (not 0) seen by {@code round}; true when it was new. */
    boolean putHost4(int address, long expiresAt, long changedAt, int round) {
        changes++;
        boolean added = hosts.put(address, expiresAt, Hosts4.seconds(changedAt), round);
        if (added) {
            lengths4[32]++;
        }
        return added;
    }

    /** Whether any IPv4 prefix broader than a single address is in the view (else no address can be covered). */
    boolean hasIpv4Networks() {
        for (int len = 0; len < 32; len++) {
            if (lengths4[len] > 0) {
                return true;
            }
        }
        return false;
    }

    /** Removes the entry; true when there was one. */
    boolean remove(Prefix p) {
        boolean removed = isHost4(p) ? hosts.remove(p.ipv4Bits()) : others.remove(p) != null;
        if (removed) {
            changes++;
            lengths(p)[p.length()]--;
        }
        return removed;
    }

    /** A live, strictly broader prefix that contains {@code p}, or null. Changes nothing. */
    Prefix covering(Prefix p, long now) {
        return covering(p, now, e -> true);
    }

    /** A live, strictly broader prefix that contains {@code p} and whose entry passes {@code stays}, or null. Changes nothing. */
    Prefix covering(Prefix p, long now, java.util.function.Predicate<Entry> stays) {
        int[] used = lengths(p);
        for (int len = 0; len < p.length(); len++) {
            if (used[len] > 0) {
                Prefix q = p.truncate(len);
                Entry e = peek(q); // no removal of an expired one here: callers may be iterating the table
                if (e != null && e.expiresAt > now && stays.test(e)) {
                    return q;
                }
            }
        }
        return null;
    }

    /** Live, strictly narrower prefixes inside {@code p}. */
    List<Prefix> contained(Prefix p, long now) {
        List<Prefix> out = new ArrayList<>();
        int[] used = lengths(p);
        boolean any = false;
        for (int len = p.length() + 1; len < used.length; len++) {
            any |= used[len] > 0;
        }
        if (!any) {
            return out;
        }
        forEach(c -> {
            if (c.expiresAt > now) {
                Prefix q = c.prefix();
                if (q.length() > p.length() && p.contains(q)) {
                    out.add(q);
                }
            }
        });
        return out;
    }

    void removeExpired(long now) {
        List<Prefix> expired = new ArrayList<>();
        forEach(c -> {
            if (c.expiresAt <= now) {
                expired.add(c.prefix());
            }
        });
        expired.forEach(this::remove);
    }

    /** Visits every entry, expired ones included. The table must not be changed structurally meanwhile (marking seen is fine). */
    void forEach(Consumer<Cursor> action) {
        hosts.forEach(action);
        OtherCursor c = new OtherCursor();
        for (Map.Entry<Prefix, Slot> e : others.entrySet()) {
            c.at = e;
            c.expiresAt = e.getValue().expiresAt;
            c.changedAt = e.getValue().changedAt;
            c.seen = e.getValue().seen;
            action.accept(c);
        }
    }

    private static final class OtherCursor extends Cursor {
        Map.Entry<Prefix, Slot> at;

        @Override
        Prefix prefix() {
            return at.getKey();
        }

        @Override
        void markSeen(int round) {
            at.getValue().seen = round;
        }
    }

    /** Every prefix in the view (a copy: for tests and small views). */
    Set<Prefix> prefixes() {
        Set<Prefix> out = new HashSet<>();
        forEach(c -> out.add(c.prefix()));
        return out;
    }

    /** Takes over the content of {@code other}, which is left empty (no copy: it may hold a million entries). */
    void replaceWith(BlockTable other) {
        changes++;
        hosts = other.hosts;
        others = other.others;
        System.arraycopy(other.lengths4, 0, lengths4, 0, lengths4.length);
        System.arraycopy(other.lengths6, 0, lengths6, 0, lengths6.length);
        other.hosts = new Hosts4();
        other.others = new HashMap<>();
        other.clear();
    }

    void clear() {
        changes++;
        hosts = new Hosts4();
        others.clear();
        java.util.Arrays.fill(lengths4, 0);
        java.util.Arrays.fill(lengths6, 0);
    }

    long changes() {
        return changes;
    }

    int size() {
        return hosts.size + others.size();
    }

    /** Reconcile rounds are kept in this many values (1 up to it; 0 is "never seen"): rounds count round within it. */
    static final int ROUNDS = (1 << 20) - 1;

    /** The longest probe run among single IPv4 addresses. */
    int longestRun() {
        return hosts.longestRun();
    }

    /**
     * IPv4 addresses with linear probing and backward-shift deletion (no tombstones). A slot is two adjacent longs,
     * so that a lookup touches one cache line (a reconcile's plan is one random probe per entry of a million): the
     * address (0 meaning free) with the last change (seconds from 2020, {@link #NEVER} for none), and the expiry
     * (milliseconds from 2020, 44 bits signed: centuries either way) with the reconcile round (20 bits). The capacity is any number
     * (a multiply-shift maps a hash onto it) and grows by half when three quarters are used: 16 bytes a slot,
     * 21 to 32 bytes an entry.
     */
    private static final class Hosts4 {
        private static final float MAX_LOAD = 0.75f;
        private static final long SINCE_SECONDS = 1_577_836_800L;
        private static final long SINCE_MILLIS = SINCE_SECONDS * 1000;
        private static final int NEVER = Integer.MIN_VALUE;
        private static final int ROUND_BITS = 20;
        private static final long ROUND_MASK = (1L << ROUND_BITS) - 1;
        long[] slots;
        int capacity;
        int size;
        /**
         * A seed of this table's own: a table filled in another table's slot order (a saved view being loaded, a full
         * rebuild) would otherwise receive its keys sorted by their home slot, and linear probing then piles them
         * into one run that every insert walks (measured: 107 s to load a million).
         */
        private final int seed = java.util.concurrent.ThreadLocalRandom.current().nextInt();

        Hosts4() {
            allocate(64);
        }

        static int seconds(long changedAtMillis) {
            return changedAtMillis <= 0 ? NEVER : (int) (secondsUp(changedAtMillis) - SINCE_SECONDS);
        }

        static long millis(int seconds) {
            return seconds == NEVER ? 0 : (seconds + SINCE_SECONDS) * 1000;
        }

        private void allocate(int capacity) {
            this.capacity = capacity;
            slots = new long[capacity * 2];
        }

        int key(int i) {
            return (int) (slots[2 * i] >>> 32);
        }

        int changed(int i) {
            return (int) slots[2 * i];
        }

        long expires(int i) {
            return (slots[2 * i + 1] >> ROUND_BITS) + SINCE_MILLIS; // signed: times before 2020 too
        }

        int seen(int i) {
            return (int) (slots[2 * i + 1] & ROUND_MASK);
        }

        void setSeen(int i, int round) {
            slots[2 * i + 1] = (slots[2 * i + 1] & ~ROUND_MASK) | (round & ROUND_MASK);
        }

        private void set(int i, int key, int changedSeconds, long expiresAt, int round) {
            slots[2 * i] = (long) key << 32 | (changedSeconds & 0xffffffffL);
            slots[2 * i + 1] = (expiresAt - SINCE_MILLIS) << ROUND_BITS | (round & ROUND_MASK);
        }

        private int mix(int key) {
            int h = key ^ seed; // murmur3's finaliser
            h ^= h >>> 16;
            h *= 0x85ebca6b;
            h ^= h >>> 13;
            h *= 0xc2b2ae35;
            return h ^ (h >>> 16);
        }

        /** The longest run of used slots (for tests: lookups walk at most this far). */
        int longestRun() {
            int longest = 0;
            int run = 0;
            for (int pass = 0; pass < 2; pass++) { // twice round: a run may wrap past the end
                for (int i = 0; i < capacity; i++) {
                    run = key(i) == 0 ? 0 : run + 1;
                    longest = Math.max(longest, Math.min(run, capacity));
                }
            }
            return longest;
        }

        private int home(int key) {
            return (int) (((mix(key) & 0xffffffffL) * capacity) >>> 32);
        }

        int find(int key) {
            int n = capacity;
            for (int i = home(key); ; i = i + 1 == n ? 0 : i + 1) {
                int k = key(i);
                if (k == key) {
                    return i;
                }
                if (k == 0) {
                    return -1;
                }
            }
        }

        /** True when the key was new. */
        boolean put(int key, long expiresAt, int changedSeconds, int round) {
            if (size + 1 > capacity * MAX_LOAD) {
                grow();
            }
            int n = capacity;
            for (int i = home(key); ; i = i + 1 == n ? 0 : i + 1) {
                int k = key(i);
                if (k == 0 || k == key) {
                    set(i, key, changedSeconds, expiresAt, round);
                    if (k == 0) {
                        size++;
                        return true;
                    }
                    return false;
                }
            }
        }

        boolean remove(int key) {
            int i = find(key);
            if (i < 0) {
                return false;
            }
            int n = capacity;
            // backward shift: pull later entries of the probe run into the hole, so that lookups never stop early
            int hole = i;
            for (int j = hole + 1 == n ? 0 : hole + 1; key(j) != 0; j = j + 1 == n ? 0 : j + 1) {
                int h = home(key(j));
                boolean stays = hole <= j ? hole < h && h <= j : hole < h || h <= j;
                if (!stays) {
                    slots[2 * hole] = slots[2 * j];
                    slots[2 * hole + 1] = slots[2 * j + 1];
                    hole = j;
                }
            }
            slots[2 * hole] = 0;
            slots[2 * hole + 1] = 0;
            size--;
            return true;
        }

        private void grow() {
            long[] old = slots;
            int oldCapacity = capacity;
            allocate(oldCapacity + oldCapacity / 2);
            size = 0;
            for (int i = 0; i < oldCapacity; i++) {
                int k = (int) (old[2 * i] >>> 32);
                if (k != 0) {
                    int n = capacity;
                    for (int j = home(k); ; j = j + 1 == n ? 0 : j + 1) {
                        if (key(j) == 0) {
                            slots[2 * j] = old[2 * i];
                            slots[2 * j + 1] = old[2 * i + 1];
                            size++;
                            break;
                        }
                    }
                }
            }
        }

        void forEach(Consumer<Cursor> action) {
            HostCursor c = new HostCursor();
            for (int i = 0; i < capacity; i++) {
                if (key(i) != 0) {
                    c.at = i;
                    c.expiresAt = expires(i);
                    c.changedAt = millis(changed(i));
                    c.seen = seen(i);
                    action.accept(c);
                }
            }
        }

        private final class HostCursor extends Cursor {
            int at;

            @Override
            Prefix prefix() {
                return Prefix.ipv4Host(key(at));
            }

            @Override
            void markSeen(int round) {
                setSeen(at, round);
            }
        }
    }
}
