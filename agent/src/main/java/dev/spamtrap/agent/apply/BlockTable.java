package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.net.Prefix;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The agent's view of what is in the firewall sets: prefix, when it expires, when the agent last changed it.
 * Expired entries are treated as absent (the kernel has dropped them). Knows which prefix lengths are in
 * use so that "is this address already inside a blocked prefix?" costs a few hash lookups.
 * Not thread-safe: owned by the applier thread.
 */
final class BlockTable {
    static final class Entry {
        final long expiresAt;
        final long changedAt;
        /** The reconcile round that last saw this entry in the store's snapshot (mark and sweep, no second map). */
        int seen;

        Entry(long expiresAt, long changedAt) {
            this.expiresAt = expiresAt;
            this.changedAt = changedAt;
        }
    }

    private Map<Prefix, Entry> entries = new HashMap<>();
    /** Counts changes to the view: the saved view is rewritten only when this moved. */
    private long changes;
    private final int[] lengths4 = new int[33];
    private final int[] lengths6 = new int[129];

    private int[] lengths(Prefix p) {
        return p.isIpv6() ? lengths6 : lengths4;
    }

    Entry get(Prefix p, long now) {
        Entry e = entries.get(p);
        if (e != null && e.expiresAt <= now) {
            remove(p);
            return null;
        }
        return e;
    }

    Entry put(Prefix p, long expiresAt, long changedAt) {
        Entry e = new Entry(expiresAt, changedAt);
        changes++;
        if (entries.put(p, e) == null) {
            lengths(p)[p.length()]++;
        }
        return e;
    }

    Entry remove(Prefix p) {
        Entry e = entries.remove(p);
        if (e != null) {
            changes++;
            lengths(p)[p.length()]--;
        }
        return e;
    }

    /** A live, strictly broader prefix that contains {@code p}, or null. */
    Prefix covering(Prefix p, long now) {
        int[] used = lengths(p);
        for (int len = 0; len < p.length(); len++) {
            if (used[len] > 0) {
                Prefix q = p.truncate(len);
                if (get(q, now) != null) {
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
        for (Map.Entry<Prefix, Entry> e : entries.entrySet()) {
            if (e.getValue().expiresAt > now && e.getKey().length() > p.length() && p.contains(e.getKey())) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    List<Prefix> removeExpired(long now) {
        List<Prefix> out = new ArrayList<>();
        Iterator<Map.Entry<Prefix, Entry>> it = entries.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Prefix, Entry> e = it.next();
            if (e.getValue().expiresAt <= now) {
                out.add(e.getKey());
                changes++;
                lengths(e.getKey())[e.getKey().length()]--;
                it.remove();
            }
        }
        return out;
    }

    /** Takes over the content of {@code other}, which is left empty (no copy: it may hold a million entries). */
    void replaceWith(BlockTable other) {
        changes++;
        entries = other.entries;
        other.entries = new HashMap<>();
        System.arraycopy(other.lengths4, 0, lengths4, 0, lengths4.length);
        System.arraycopy(other.lengths6, 0, lengths6, 0, lengths6.length);
        other.clear();
    }

    void clear() {
        changes++;
        entries.clear();
        java.util.Arrays.fill(lengths4, 0);
        java.util.Arrays.fill(lengths6, 0);
    }

    Map<Prefix, Entry> entries() {
        return entries;
    }

    long changes() {
        return changes;
    }

    int size() {
        return entries.size();
    }
}
