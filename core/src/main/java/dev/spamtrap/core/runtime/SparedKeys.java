package dev.spamtrap.core.runtime;

import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.net.IpAddresses;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.function.Predicate;

/**
 * The offender keys that must never be blocked by the firewall nor exported: a key whose range covers an allowlisted
 * address (the allowlist as it is now, file and table) or a trusted relay, a non-global source (link-local,
 * unspecified, multicast), or no key at all. Lock-free; asked by the firewall client and the export.
 */
final class SparedKeys implements Predicate<String> {
    private final TrapsAndAllowlist lists;
    private final Allowlist trustedRelays;

    SparedKeys(TrapsAndAllowlist lists, Allowlist trustedRelays) {
        this.lists = lists;
        this.trustedRelays = trustedRelays;
    }

    @Override
    public boolean test(String offenderKey) {
        CidrRange range;
        try {
            range = CidrRange.parse(offenderKey);
        } catch (IllegalArgumentException e) {
            return true;
        }
        try {
            if (!IpAddresses.isGlobalSource(InetAddress.getByAddress(range.network()))) {
                return true;
            }
        } catch (UnknownHostException e) {
            return true;
        }
        return lists.overlapsAllowlist(range) || TrapsAndAllowlist.overlaps(trustedRelays, range);
    }
}
