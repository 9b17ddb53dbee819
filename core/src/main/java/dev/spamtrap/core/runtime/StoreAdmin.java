package dev.spamtrap.core.runtime;

import dev.spamtrap.core.admin.AllowlistRecord;
import dev.spamtrap.core.admin.ImportResult;
import dev.spamtrap.core.admin.CursorPage;
import dev.spamtrap.core.admin.OffenderEvidence;
import dev.spamtrap.core.admin.OffenderFilter;
import dev.spamtrap.core.admin.OffenderSummary;
import dev.spamtrap.core.admin.Page;
import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.core.admin.SpamtrapStatus;
import dev.spamtrap.core.admin.TrapRecord;
import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.store.OffenderStore;
import dev.spamtrap.core.trap.TrapEntry;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@link SpamtrapAdmin} over the offender store and this node's lists. Every change is written to the shared tables
 * and announced on the change feed, so it reaches every node's view (and their listeners, e.g. the firewall UNBLOCK)
 * within the sync interval; this node also syncs at once ({@link Node#syncSoon}).
 */
final class StoreAdmin implements SpamtrapAdmin {
    /** What the admin asks of the node it runs on. */
    interface Node {
        /** A listing made here by hand: the change feed skips this node's own entries, so its view and listeners are told now. */
        void listedHere(Offender offender);

        /** Reads the change feed now, after a change made on this node. */
        void syncSoon();

        SpamtrapStatus status();
    }

    private final SpamtrapConfig config;
    private final Clock clock;
    private final OffenderStore store;
    private final TrapsAndAllowlist lists;
    private final Node node;

    StoreAdmin(SpamtrapConfig config, Clock clock, OffenderStore store, TrapsAndAllowlist lists, Node node) {
        this.config = config;
        this.clock = clock;
        this.store = store;
        this.lists = lists;
        this.node = node;
    }

    // ---- traps ----

    @Override
    public CompletionStage<Page<TrapRecord>> listTraps(int offset, int limit) {
        checkPaging(offset, limit);
        return store.traps().thenApply(rows -> {
            List<TrapRecord> all = new ArrayList<>();
            rows.forEach(r -> all.add(new TrapRecord(r.value(), kindOf(r.value()), "table", r.comment(), r.addedAt())));
            lists.fileTraps().entries().stream().map(TrapEntry::text).sorted()
                .forEach(e -> all.add(new TrapRecord(e, kindOf(e), "file", null, null)));
            return page(all, offset, limit);
        });
    }

    @Override
    public CompletionStage<Boolean> addTrap(String entry, String comment) {
        TrapEntry parsed = TrapEntry.parse(entry);
        return store.addTrap(parsed.text(), comment, clock.instant()).thenApply(added -> added ? synced(true) : false);
    }

    @Override
    public CompletionStage<Boolean> removeTrap(String entry) {
        String text = entry.trim();
        return store.removeTrap(text).thenApply(removed -> removed ? synced(true) : false);
    }

    @Override
    public CompletionStage<ImportResult> importTraps(List<String> entries, String comment) {
        List<String> refused = new ArrayList<>();
        List<String> good = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            String line = entries.get(i).trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                good.add(TrapEntry.parse(line).text());
            } catch (IllegalArgumentException e) {
                refused.add("line " + (i + 1) + ": " + e.getMessage());
            }
        }
        return store.loadTrapEntries().thenCompose(existing -> {
            java.util.Set<String> have = new java.util.HashSet<>(existing);
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            int added = 0;
            int present = 0;
            Instant now = clock.instant();
            for (String e : new java.util.LinkedHashSet<>(good)) {
                if (have.contains(e)) {
                    present++;
                    continue;
                }
                added++;
                writes.add(store.addTrap(e, comment, now).thenApply(x -> (Void) null).toCompletableFuture());
            }
            int a = added;
            int p = present;
            return CompletableFuture.allOf(writes.toArray(new CompletableFuture[0])).thenApply(x -> synced(new ImportResult(a, p, refused)));
        });
    }

    @Override
    public Optional<TrapEntry> checkAddress(String address) {
        return lists.traps().match(address);
    }

    // ---- offenders ----

    /** Pages read per call at most when a filter rejects most rows (the caller continues from the cursor returned). */
    static final int MAX_PAGES_PER_CALL = 20;

    @Override
    public CompletionStage<CursorPage<OffenderSummary>> offenders(OffenderFilter filter, String cursor, int limit) {
        checkPaging(0, limit);
        Optional<CidrRange> range = filter.prefix().map(CidrRange::parse);
        Instant now = clock.instant();
        List<OffenderSummary> items = new ArrayList<>();
        try {
            return nextPages(filter, range, now, cursor, limit, items, MAX_PAGES_PER_CALL).thenApply(next -> new CursorPage<>(items, next));
        } catch (IllegalArgumentException e) {
            throw CursorPage.notACursor(cursor);
        }
    }

    private CompletionStage<String> nextPages(OffenderFilter filter, Optional<CidrRange> range, Instant now, String from, int limit,
                                              List<OffenderSummary> items, int pagesLeft) {
        return store.listingPage(from, limit - items.size(), l -> {
            if (l.isActiveAt(now) && matches(filter, range, l.offender())) {
                items.add(summary(l.offender(), l.reason()));
            }
        }).thenCompose(next -> next == null || items.size() >= limit || pagesLeft <= 1 ? CompletableFuture.completedFuture(next)
            : nextPages(filter, range, now, next, limit, items, pagesLeft - 1));
    }

    private static boolean matches(OffenderFilter filter, Optional<CidrRange> range, Offender o) {
        return filter.admits(o.cause()) && (range.isEmpty() || inside(range.get(), o.key()))
            && (filter.trap().isEmpty() || filter.trap().get().equalsIgnoreCase(o.trap()))
            && (filter.node().isEmpty() || filter.node().get().equals(o.node()));
    }

    @Override
    public CompletionStage<Optional<OffenderEvidence>> offender(String key) {
        String k = canonicalKey(key);
        return store.offender(k).thenApply(found -> found.filter(l -> !"forgiven".equals(l.reason())).map(l -> {
            List<OffenderEvidence.Hit> hits = new ArrayList<>();
            for (dev.spamtrap.core.offender.TrapHit h : l.evidence()) {
                hits.add(new OffenderEvidence.Hit(h.id(), h.at(), h.client(), h.trap(), h.helo(), h.mailFrom(), h.node()));
            }
            return new OffenderEvidence(summary(l.offender(), l.reason()), hits);
        }));
    }

    @Override
    public CompletionStage<OffenderSummary> listByHand(String key, Duration lifetime, String reason) {
        String k = canonicalKey(key);
        if (lifetime.isNegative() || lifetime.isZero()) {
            throw new IllegalArgumentException("lifetime " + lifetime + " must be positive");
        }
        CidrRange range = CidrRange.parse(k);
        if (lists.overlapsAllowlist(range)) {
            throw new IllegalArgumentException("'" + k + "' overlaps the allowlist");
        }
        Duration capped = lifetime.compareTo(config.policy().maxLifetime()) > 0 ? config.policy().maxLifetime() : lifetime;
        Instant until = clock.instant().plus(capped);
        return store.listByHand(k, until, reason == null ? "" : reason).thenApply(o -> {
            node.listedHere(o);
            return synced(summary(o, "manual"));
        });
    }

    @Override
    public CompletionStage<Boolean> forgive(String key) {
        String k = canonicalKey(key);
        return store.forgive(k).thenApply(this::synced);
    }

    // ---- allowlist ----

    @Override
    public CompletionStage<Page<AllowlistRecord>> listAllowlist(int offset, int limit) {
        checkPaging(offset, limit);
        return store.allowlist().thenApply(rows -> {
            List<AllowlistRecord> all = new ArrayList<>();
            rows.forEach(r -> all.add(new AllowlistRecord(r.value(), "table", r.comment(), r.addedAt())));
            lists.fileAllowlist().ranges().stream().map(CidrRange::toString).sorted()
                .forEach(c -> all.add(new AllowlistRecord(c, "file", null, null)));
            return page(all, offset, limit);
        });
    }

    @Override
    public CompletionStage<Integer> addAllowlist(String cidr, String comment) {
        CidrRange range = CidrRange.parse(cidr);
        String text = range.toString();
        Instant now = clock.instant();
        return store.addAllowed(text, comment, now)
            .thenCompose(x -> {
                List<String> inside = new ArrayList<>();
                return store.forEachListing(l -> {
                    if (l.isActiveAt(now) && overlaps(range, l.offender().key())) {
                        inside.add(l.offender().key());
                    }
                }).thenCompose(y -> {
                    List<CompletableFuture<Void>> removals = new ArrayList<>();
                    for (String k : inside) {
                        removals.add(store.remove(k).toCompletableFuture());
                    }
                    return CompletableFuture.allOf(removals.toArray(new CompletableFuture[0])).thenApply(z -> synced(inside.size()));
                });
            });
    }

    @Override
    public CompletionStage<Boolean> removeAllowlist(String cidr) {
        String text = CidrRange.parse(cidr).toString();
        return store.removeAllowed(text).thenApply(removed -> removed ? synced(true) : false);
    }

    // ---- health ----

    @Override
    public SpamtrapStatus status() {
        return node.status();
    }

    // ---- helpers ----

    private <T> T synced(T value) {
        node.syncSoon();
        return value;
    }

    /** Any spelling of an address or prefix becomes the one key it is stored under ({@link dev.spamtrap.core.net.OffenderKeys#canonicalKey}). */
    private String canonicalKey(String key) {
        return config.offenderKeys().canonicalKey(key);
    }

    private static boolean inside(CidrRange range, String key) {
        try {
            CidrRange k = CidrRange.parse(key);
            return k.network().length == range.network().length && k.prefixLength() >= range.prefixLength() && range.contains(k.network());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Whether a listed key and a new allowlist range share an address: a key inside the range, and a listed prefix
     * around it (which would otherwise keep refusing and blocking the allowlisted addresses inside it).
     */
    private static boolean overlaps(CidrRange range, String key) {
        try {
            CidrRange k = CidrRange.parse(key);
            return range.overlaps(k);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private OffenderSummary summary(Offender o, String reason) {
        return new OffenderSummary(o.key(), o.firstHit(), o.lastHit(), o.hitCount(), o.trap(), o.node(), o.expiresAt(),
            reason == null ? "trap" : reason, config.actedCause(o.cause()));
    }

    private static String kindOf(String entry) {
        try {
            return TrapEntry.parse(entry).kind().name().toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return "invalid";
        }
    }

    private static void checkPaging(int offset, int limit) {
        if (offset < 0) {
            throw new IllegalArgumentException("offset " + offset + " must not be negative");
        }
        if (limit < 1) {
            throw new IllegalArgumentException("limit " + limit + " must be at least 1");
        }
    }

    private static <T> Page<T> page(List<T> all, int offset, int limit) {
        int from = Math.min(offset, all.size());
        int to = (int) Math.min((long) from + limit, all.size());
        return new Page<>(all.subList(from, to), offset, to < all.size());
    }
}
