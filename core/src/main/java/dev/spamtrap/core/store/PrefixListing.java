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
    private volatile PrefixEscalation rule = PrefixEscalation.OFF;
    private volatile Predicate<CidrRange> allowlisted = r -> false;

    PrefixListing(OffenderPolicy policy, Clock clock, Listings listings) {
        this.policy = policy;
        this.clock = clock;
        this.listings = listings;
    }

    void rule(PrefixEscalation rule, Predicate<CidrRange> coversAllowlisted) {
        this.rule = rule;
        this.allowlisted = coversAllowlisted;
    }

    boolean enabled() {
        return rule.enabled();
    }

    /** Counts {@code hit} towards its prefix and lists the prefix when the rule says so. */
    CompletionStage<Void> count(Statements p, TrapHit hit) {
        PrefixEscalation rule = this.rule;
        CidrRange prefix = prefixOf(rule, hit.client());
        if (prefix == null) {
            return CompletableFuture.completedFuture(null);
        }
        String key = prefix.toString();
        Instant now = clock.instant();
        Instant from = now.minus(rule.window());
        int ttl = Statements.ttlSeconds(now, hit.at().plus(rule.window()));
        if (ttl <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        return p.session.executeAsync(p.write(p.insertPrefixHit.bind(key, hit.at(), hit.id(), hit.client(), ttl)))
            .thenCompose(x -> Paging.collect(p.session.executeAsync(p.read(p.readPrefixHits.bind(key, from))),
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

    private static CidrRange prefixOf(PrefixEscalation rule, String client) {
        try {
            byte[] raw = CidrRange.literal(client).orElse(null);
            if (raw == null) {
                return null;
            }
            int length = raw.length == 4 ? rule.v4Length() : rule.v6Length();
            return CidrRange.parse(IpAddresses.canonical(InetAddress.getByAddress(AddressBits.mask(raw, length))) + "/" + length);
        } catch (UnknownHostException | IllegalArgumentException e) {
            return null;
        }
    }
}
