package dev.spamtrap.core.trap;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * An immutable set of traps. Addresses and domains are hash lookups; regexes are tried in order.
 * Replaced as a whole when the file or the Cassandra table changes, so readers never see half a list.
 */
public final class TrapList {
    public static final TrapList EMPTY = new TrapList(List.of());

    private final Map<String, TrapEntry> addresses = new HashMap<>();
    private final Map<String, TrapEntry> domains = new HashMap<>();
    private final List<TrapEntry> regexes = new ArrayList<>();
    private final int size;

    public TrapList(Collection<TrapEntry> entries) {
        for (TrapEntry e : entries) {
            switch (e.kind()) {
                case ADDRESS: addresses.putIfAbsent(e.key(), e); break;
                case DOMAIN: domains.putIfAbsent(e.key(), e); break;
                default: if (!regexes.contains(e)) { regexes.add(e); }
            }
        }
        this.size = addresses.size() + domains.size() + regexes.size();
    }

    public static TrapList merge(TrapList a, TrapList b) {
        List<TrapEntry> all = new ArrayList<>(a.entries());
        all.addAll(b.entries());
        return new TrapList(all);
    }

    /** The entry that makes {@code address} a trap, if any. */
    public Optional<TrapEntry> match(String address) {
        if (size == 0 || address == null) {
            return Optional.empty();
        }
        String lower = address.toLowerCase(Locale.ROOT);
        TrapEntry hit = addresses.get(lower);
        if (hit != null) {
            return Optional.of(hit);
        }
        int at = lower.lastIndexOf('@');
        if (at >= 0) {
            hit = domains.get(lower.substring(at + 1));
            if (hit != null) {
                return Optional.of(hit);
            }
        }
        for (TrapEntry regex : regexes) {
            if (regex.matchesRegex(address)) {
                return Optional.of(regex);
            }
        }
        return Optional.empty();
    }

    public List<TrapEntry> entries() {
        List<TrapEntry> all = new ArrayList<>(addresses.values());
        all.addAll(domains.values());
        all.addAll(regexes);
        return all;
    }

    public int size() {
        return size;
    }
}
