package dev.spamtrap.agent.safety;

import dev.spamtrap.agent.net.Prefix;
import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.net.CidrRange;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * What the agent never blocks, whoever asks: loopback, this server's own addresses, the allowlist and the
 * {@code protect} ranges; and prefixes broader than the configured minimum length. A target that
 * overlaps a protected range in either direction (it is inside it, or it contains it) is refused.
 */
public final class SafetyRails {
    private static final class Protected {
        final Prefix prefix;
        final String label;
        /** For an IPv4 range: its address as an int, so that an IPv4 target is checked with one mask and compare. */
        final int bits4;

        Protected(Prefix prefix, String label) {
            this.prefix = prefix;
            this.label = label;
            this.bits4 = prefix.isIpv6() ? 0 : prefix.ipv4Bits();
        }

        /** Whether one of the two contains the other. */
        boolean overlaps(Prefix target, int targetBits4) {
            if (target.isIpv6() || prefix.isIpv6()) {
                return prefix.overlaps(target);
            }
            return overlaps4(targetBits4, target.length());
        }

        /** For an IPv4 range: whether it overlaps the IPv4 prefix {@code targetBits4}/{@code targetLength}. No object made. */
        boolean overlaps4(int targetBits4, int targetLength) {
            int shorter = Math.min(prefix.length(), targetLength);
            int mask = shorter == 0 ? 0 : -1 << (32 - shorter);
            return ((bits4 ^ targetBits4) & mask) == 0;
        }
    }

    private final List<Protected> ranges;
    private volatile List<Protected> own;
    private final int minPrefix4;
    private final int minPrefix6;

    private SafetyRails(List<Protected> ranges, List<Protected> own, int minPrefix4, int minPrefix6) {
        this.ranges = List.copyOf(ranges);
        this.own = List.copyOf(own);
        this.minPrefix4 = minPrefix4;
        this.minPrefix6 = minPrefix6;
    }

    public static final class Builder {
        private final List<Protected> ranges = new ArrayList<>();
        private final List<Protected> own = new ArrayList<>();
        private int minPrefix4 = 24;
        private int minPrefix6 = 48;

        public Builder() {
            ranges.add(new Protected(Prefix.parse("127.0.0.0/8"), "loopback"));
            ranges.add(new Protected(Prefix.parse("::1"), "loopback"));
            ranges.add(new Protected(Prefix.parse("0.0.0.0"), "unspecified address"));
            ranges.add(new Protected(Prefix.parse("::"), "unspecified address"));
        }

        public Builder allowlist(Allowlist allowlist, String source) {
            for (CidrRange r : allowlist.ranges()) {
                ranges.add(new Protected(Prefix.parse(r.toString()), "allowlisted (" + r + " in " + source + ")"));
            }
            return this;
        }

        public Builder protect(Prefix prefix, String why) {
            ranges.add(new Protected(prefix, why));
            return this;
        }

        public Builder ownAddresses(List<InetAddress> addresses) {
            own.addAll(ownRanges(addresses));
            return this;
        }

        public Builder minPrefix(int v4, int v6) {
            this.minPrefix4 = v4;
            this.minPrefix6 = v6;
            return this;
        }

        public SafetyRails build() {
            return new SafetyRails(ranges, own, minPrefix4, minPrefix6);
        }
    }

    /** Every address of every local interface, as seen now (scope ids dropped). */
    public static List<InetAddress> localAddresses() {
        List<InetAddress> out = new ArrayList<>();
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    out.add(InetAddress.getByAddress(a.getAddress()));
                }
            }
        } catch (SocketException | java.net.UnknownHostException e) {
            throw new IllegalStateException("cannot list this server's addresses: " + e.getMessage(), e);
        }
        return out;
    }

    private static List<Protected> ownRanges(List<InetAddress> addresses) {
        List<Protected> out = new ArrayList<>();
        for (InetAddress a : addresses) {
            out.add(new Protected(Prefix.of(a), "this server's own address " + Prefix.of(a)));
        }
        return out;
    }

    /** Replaces the server's own addresses (re-read periodically: addresses come and go). */
    public void refreshOwnAddresses(List<InetAddress> addresses) {
        own = List.copyOf(ownRanges(addresses));
    }

    /** Why this target must not be blocked, or empty when it may be. */
    public Optional<String> refusal(Prefix target) {
        int min = target.isIpv6() ? minPrefix6 : minPrefix4;
        if (target.length() < min) {
            return Optional.of(target + " is broader than the smallest allowed prefix /" + min
                + " (block.minPrefix" + (target.isIpv6() ? "6" : "4") + ")");
        }
        int bits4 = target.isIpv6() ? 0 : target.ipv4Bits();
        Protected hit = firstOverlap(ranges, target, bits4);
        if (hit == null) {
            hit = firstOverlap(own, target, bits4);
        }
        if (hit != null) {
            return Optional.of(target + (hit.prefix.contains(target) ? " is " : " contains ") + hit.label + " (" + hit.prefix + "), never blocked");
        }
        return Optional.empty();
    }

    /**
     * Whether the single IPv4 address {@code bits} may be blocked: the same answer as {@link #refusal} for it, with
     * no object made (a reconcile asks for a million); ask {@link #refusal} for the reason when it is false.
     */
    public boolean allowsHost4(int bits) {
        if (32 < minPrefix4) {
            return false;
        }
        return noneContains4(ranges, bits) && noneContains4(own, bits);
    }

    /** True when no IPv4 range of {@code list} contains {@code bits}. */
    private static boolean noneContains4(List<Protected> list, int bits) {
        for (int i = 0, n = list.size(); i < n; i++) {
            Protected p = list.get(i);
            if (!p.prefix.isIpv6() && p.overlaps4(bits, 32)) {
                return false;
            }
        }
        return true;
    }

    /** Runs for every entry of a reconcile (a million): no allocation, IPv4 compared as ints. */
    private static Protected firstOverlap(List<Protected> list, Prefix target, int bits4) {
        for (int i = 0, n = list.size(); i < n; i++) {
            Protected p = list.get(i);
            if (p.overlaps(target, bits4)) {
                return p;
            }
        }
        return null;
    }

    public int protectedCount() {
        return ranges.size() + own.size();
    }
}
