package dev.spamtrap.core.store;

import dev.spamtrap.core.net.AddressBits;
import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.net.IpAddresses;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.offender.TrapHit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * Lists a whole prefix on evidence ({@link PrefixEscalation}): each hit is also written under its client's prefix
 * ({@code prefix_hits}, kept for the rule's window); when the prefix has hits of enough distinct addresses within the
 * window it is listed for the policy's lifetime with reason {@code prefix-escalation}, its {@code cause} naming the
 * hits. Never a prefix that overlaps the allowlist; never again while it is listed.
 */
final class PrefixListing {
    private static final Logger LOGGER = LoggerFactory.getLogger(PrefixListing.class);

    static final int MAX_CAUSE_IDS = 16;

    private final OffenderPolicy policy;
    private final Clock clock;
    private final Listings listings;
    private final PrefixEscalation rule;
    private final Predicate<CidrRange> allowlisted;

    PrefixListing(OffenderPolicy policy, Clock clock, Listings listings, PrefixEscalation rule, Predicate<CidrRange> coversAllowlisted) {
        this.policy = policy;
        this.clock = clock;
        this.listings = listings;
        this.rule = rule;
        this.allowlisted = coversAllowlisted;
    }

    boolean enabled() {
        return rule.enabled();
    }

    /**
     * Counts a group's hits towards their prefixes (one row per client and prefix, the newest hit's) and lists each prefix
     * the rule says: per prefix one write per client and one read of its clients, all prefixes at once.
     */
    CompletionStage<Void> countAll(Statements p, List<TrapHit> hits) {
        PrefixEscalation rule = this.rule;
        Instant now = clock.instant();
        java.util.Map<String, java.util.Map<String, TrapHit>> byPrefix = new java.util.LinkedHashMap<>();
        for (TrapHit hit : hits) {
            CidrRange prefix = prefixOf(rule, hit.client());
            if (prefix != null && Statements.ttlSeconds(now, hit.at().plus(rule.window())) > 0) {
                byPrefix.computeIfAbsent(prefix.toString(), k -> new java.util.HashMap<>())
                    .merge(hit.client(), hit, (a, b) -> a.at().isAfter(b.at()) ? a : b);
            }
        }
        List<CompletableFuture<Void>> each = new ArrayList<>();
        for (java.util.Map.Entry<String, java.util.Map<String, TrapHit>> e : byPrefix.entrySet()) {
            each.add(count(p, rule, CidrRange.parse(e.getKey()), e.getValue().values(), now).toCompletableFuture());
        }
        return CompletableFuture.allOf(each.toArray(new CompletableFuture[0]));
    }

    private CompletionStage<Void> count(Statements p, PrefixEscalation rule, CidrRange prefix, java.util.Collection<TrapHit> newest, Instant now) {
        String key = prefix.toString();
        List<CompletableFuture<?>> writes = new ArrayList<>();
        TrapHit last = null;
        for (TrapHit hit : newest) {
            int ttl = Statements.ttlSeconds(now, hit.at().plus(rule.window()));
            long micros = hit.at().getEpochSecond() * 1_000_000L + hit.at().getNano() / 1000;
            writes.add(p.session.executeAsync(p.write(p.insertPrefixHit.bind(key, hit.client(), hit.at(), hit.id(), ttl, micros))).toCompletableFuture());
            last = last == null || hit.at().isAfter(last.at()) ? hit : last;
        }
        TrapHit hit = last;
        return CompletableFuture.allOf(writes.toArray(new CompletableFuture[0]))
            .thenCompose(x -> Paging.collect(p.session.executeAsync(p.read(p.readPrefixHits.bind(key))),
                row -> new String[] {row.getString("id"), row.getString("client")}))
            .thenCompose(rows -> {
                Set<String> clients = new HashSet<>();
                List<String> ids = new ArrayList<>();
                for (String[] r : rows) {
                    if (r[1] != null && clients.add(r[1])) {
                        ids.add(r[0]);
                    }
                }
                if (clients.size() < rule.addresses()) {
                    return CompletableFuture.completedFuture(null);
                }
                if (allowlisted.test(prefix)) {
                    LOGGER.warn("Prefix {} reached {} trapping addresses but overlaps the allowlist: not listed", key, clients.size());
                    return CompletableFuture.completedFuture(null);
                }
                // the cause names at most MAX_CAUSE_IDS hits: a /48 full of trapping clients cannot grow it without bound
                String cause = String.join(",", ids.subList(0, Math.min(ids.size(), MAX_CAUSE_IDS)))
                    + (ids.size() > MAX_CAUSE_IDS ? " (+" + (ids.size() - MAX_CAUSE_IDS) + " more)" : "");
                return listings.list(p, key, now.plus(policy.lifetime()), "prefix-escalation", cause, hit.node(), clients.size(), true)
                    .thenAccept(listed -> listed.ifPresent(o -> LOGGER.warn("Prefix {} listed: {} distinct addresses hit traps within {} (hits {})",
                        key, clients.size(), rule.window(), cause)));
            });
    }

    static CidrRange prefixOf(PrefixEscalation rule, String client) {
        try {
            byte[] raw = CidrRange.literal(client).orElse(null);
            if (raw == null || !IpAddresses.isGlobalSource(InetAddress.getByAddress(raw))) {
                return null; // a link-local, unspecified or multicast source never counts towards a prefix
            }
            int length = raw.length == 4 ? rule.v4Length() : rule.v6Length();
            return CidrRange.parse(IpAddresses.canonical(InetAddress.getByAddress(AddressBits.mask(raw, length))) + "/" + length);
        } catch (UnknownHostException | IllegalArgumentException e) {
            return null;
        }
    }
}
