package dev.spamtrap.core.net;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** CIDR ranges whose clients are never recorded and never refused. Immutable; replaced as a whole on reload. */
public final class Allowlist {
    public static final Allowlist EMPTY = new Allowlist(List.of());

    private final List<CidrRange> ranges;

    public Allowlist(Collection<CidrRange> ranges) {
        this.ranges = List.copyOf(ranges);
    }

    public static Allowlist merge(Allowlist a, Allowlist b) {
        List<CidrRange> all = new ArrayList<>(a.ranges);
        all.addAll(b.ranges);
        return new Allowlist(all);
    }

    public boolean contains(InetAddress address) {
        byte[] raw = address.getAddress();
        for (CidrRange r : ranges) {
            if (r.contains(raw)) {
                return true;
            }
        }
        return false;
    }

    public List<CidrRange> ranges() {
        return ranges;
    }
}
