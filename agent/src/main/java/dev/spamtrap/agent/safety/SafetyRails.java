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

        Protected(Prefix prefix, String label) {
            this.prefix = prefix;
            this.label = label;
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
        for (List<Protected> list : List.of(ranges, own)) {
            for (Protected p : list) {
                if (p.prefix.overlaps(target)) {
                    return Optional.of(target + (p.prefix.contains(target) ? " is " : " contains ") + p.label + " (" + p.prefix + "), never blocked");
                }
            }
        }
        return Optional.empty();
    }

    public int protectedCount() {
        return ranges.size() + own.size();
    }
}
