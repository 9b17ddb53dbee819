package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.net.Prefix;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the store wants blocked, as read by one reconcile: single IPv4 addresses (nearly every offender) in
 * primitive arrays, no object per address, and every other prefix as a {@link Wanted}. A prefix may appear more
 * than once. Built on one thread, then handed to the applier.
 * <p>
 * Measured at 1,000,000 offenders: a list of {@code Wanted} with their {@code Prefix} made two objects per offender
 * (about 60 MB, which the planner then chased through one pointer each) and G1 pauses of 0.1-0.26 s during the
 * reconcile; these arrays are 20 bytes an address.
 */
public final class Snapshot {
    private int[] hosts = new int[16];
    /** Per host: when it expires, and when it was recorded (epoch millis; 0 when the store does not say). */
    private long[] hostExpires = new long[16];
    private long[] hostRecorded = new long[16];
    private int hostCount;
    final List<Wanted> others = new ArrayList<>();

    public Snapshot() {
    }

    /** Room for {@code expected} single IPv4 addresses without growing. */
    public Snapshot(int expected) {
        int n = Math.max(16, expected);
        hosts = new int[n];
        hostExpires = new long[n];
        hostRecorded = new long[n];
    }

    public static Snapshot of(List<Wanted> wanted) {
        Snapshot s = new Snapshot(wanted.size());
        wanted.forEach(s::add);
        return s;
    }

    /** Whether {@code p} goes to the primitive arrays: a single IPv4 address other than 0.0.0.0, as {@link BlockTable} keeps them. */
    static boolean isHost4(Prefix p) {
        return !p.isIpv6() && p.length() == 32 && p.ipv4Bits() != 0;
    }

    public void add(Wanted w) {
        if (isHost4(w.prefix)) {
            addHost4(w.prefix.ipv4Bits(), w.expiresAt, w.recordedAt);
        } else {
            others.add(w);
        }
    }

    public void add(Prefix p, long expiresAt, long recordedAt) {
        if (isHost4(p)) {
            addHost4(p.ipv4Bits(), expiresAt, recordedAt);
        } else {
            others.add(new Wanted(p, expiresAt, recordedAt));
        }
    }

    /** A single IPv4 address by its bits; 0 (0.0.0.0) is not one: use {@link #add(Prefix, long, long)}. */
    public void addHost4(int address, long expiresAt, long recordedAt) {
        if (address == 0) {
            throw new IllegalArgumentException("0.0.0.0 is not kept as a host: add it as a prefix");
        }
        if (hostCount == hosts.length) {
            int n = hostCount + (hostCount >> 1) + 16;
            hosts = Arrays.copyOf(hosts, n);
            hostExpires = Arrays.copyOf(hostExpires, n);
            hostRecorded = Arrays.copyOf(hostRecorded, n);
        }
        hosts[hostCount] = address;
        hostExpires[hostCount] = expiresAt;
        hostRecorded[hostCount] = recordedAt;
        hostCount++;
    }

    public int size() {
        return hostCount + others.size();
    }

    int hostCount() {
        return hostCount;
    }

    int host(int i) {
        return hosts[i];
    }

    long hostExpires(int i) {
        return hostExpires[i];
    }

    long hostRecorded(int i) {
        return hostRecorded[i];
    }

    /** Leaves out the single IPv4 addresses in {@code sorted} (ascending) and the other prefixes {@code drop} names. */
    void removeAll(int[] sorted, java.util.function.Predicate<Prefix> drop) {
        if (sorted.length > 0) {
            int kept = 0;
            for (int i = 0; i < hostCount; i++) {
                if (Arrays.binarySearch(sorted, hosts[i]) < 0) {
                    hosts[kept] = hosts[i];
                    hostExpires[kept] = hostExpires[i];
                    hostRecorded[kept] = hostRecorded[i];
                    kept++;
                }
            }
            hostCount = kept;
        }
        others.removeIf(w -> drop.test(w.prefix));
    }
}
