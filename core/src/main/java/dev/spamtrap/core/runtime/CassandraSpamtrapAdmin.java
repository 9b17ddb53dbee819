package dev.spamtrap.core.runtime;

import com.datastax.oss.driver.api.core.cql.Row;
import dev.spamtrap.core.admin.AllowlistRecord;
import dev.spamtrap.core.admin.ImportResult;
import dev.spamtrap.core.admin.CursorPage;
import dev.spamtrap.core.admin.OffenderEvidence;
import dev.spamtrap.core.admin.OffenderFilter;
import dev.spamtrap.core.admin.OffenderSummary;
import dev.spamtrap.core.admin.Page;
import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.core.admin.SpamtrapStatus;
import dev.spamtrap.core.firewall.FirewallClient;
import dev.spamtrap.core.admin.TrapRecord;
import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.net.IpAddresses;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.store.CassandraOffenderStore;
import dev.spamtrap.core.store.Change;
import dev.spamtrap.core.trap.TrapEntry;

import java.net.InetAddress;
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
 * {@link SpamtrapAdmin} over the Cassandra store and this node's runtime. Every change is written to the
 * shared tables and announced on the change feed, so it reaches every node's view (and their listeners,
 * e.g. the firewall UNBLOCK) within the sync interval; this node also syncs at once.
 */
final class CassandraSpamtrapAdmin implements SpamtrapAdmin {
    private final Spamtrap runtime;
    private final CassandraOffenderStore store;

    CassandraSpamtrapAdmin(Spamtrap runtime, CassandraOffenderStore store) {
        this.runtime = runtime;
        this.store = store;
    }

    // ---- traps ----

    @Override
    public CompletionStage<Page<TrapRecord>> listTraps(int offset, int limit) {
        checkPaging(offset, limit);
        return store.trapRows().thenApply(rows -> {
            List<TrapRecord> all = new ArrayList<>();
            rows.stream().filter(r -> r.getString("entry") != null).sorted(Comparator.comparing(r -> r.getString("entry")))
                .forEach(r -> all.add(new TrapRecord(r.getString("entry"), kindOf(r.getString("entry")), "table", r.getString("comment"),
                    r.getInstant("added_at"))));
            runtime.lists().fileTraps().entries().stream().map(TrapEntry::text).sorted()
                .forEach(e -> all.add(new TrapRecord(e, kindOf(e), "file", null, null)));
            return page(all, offset, limit);
        });
    }

    @Override
    public CompletionStage<Boolean> addTrap(String entry, String comment) {
        TrapEntry parsed = TrapEntry.parse(entry);
        return store.tableRead("SELECT entry FROM %ks.traps WHERE entry = ?", parsed.text()).thenCompose(rows -> {
            if (!rows.isEmpty()) {
                return CompletableFuture.completedFuture(false);
            }
            return store.tableWrite("INSERT INTO %ks.traps (entry, comment, added_at) VALUES (?, ?, ?)", Change.TRAPS, parsed.text(), comment,
                Instant.now()).thenApply(x -> synced(true));
        });
    }

    @Override
    public CompletionStage<Boolean> removeTrap(String entry) {
        String text = entry.trim();
        return store.tableRead("SELECT entry FROM %ks.traps WHERE entry = ?", text).thenCompose(rows -> {
            if (rows.isEmpty()) {
                return CompletableFuture.completedFuture(false);
            }
            return store.tableWrite("DELETE FROM %ks.traps WHERE entry = ?", Change.TRAPS, text).thenApply(x -> synced(true));
        });
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
            Instant now = Instant.now();
            for (String e : new java.util.LinkedHashSet<>(good)) {
                if (have.contains(e)) {
                    present++;
                    continue;
                }
                added++;
                writes.add(store.tableWrite("INSERT INTO %ks.traps (entry, comment, added_at) VALUES (?, ?, ?)", Change.TRAPS, e, comment, now)
                    .toCompletableFuture());
            }
            int a = added;
            int p = present;
            return CompletableFuture.allOf(writes.toArray(new CompletableFuture[0])).thenApply(x -> synced(new ImportResult(a, p, refused)));
        });
    }

    @Override
    public Optional<TrapEntry> checkAddress(String address) {
        return runtime.trapFor(address);
    }

    // ---- offenders ----

    @Override
    public CompletionStage<Page<OffenderSummary>> listOffenders(OffenderFilter filter, int offset, int limit) {
        checkPaging(offset, limit);
        Optional<CidrRange> range = filter.prefix().map(CidrRange::parse);
        Instant now = runtime.clock().instant();
        List<OffenderSummary> matching = new ArrayList<>();
        return store.forEachOffender((o, reason) -> {
            if (o.isActiveAt(now) && matches(filter, range, o)) {
                matching.add(summary(o, reason));
            }
        }).thenApply(x -> {
            matching.sort(Comparator.comparing(OffenderSummary::key));
            return page(matching, offset, limit);
        });
    }

    /** Pages read per call at most when a filter rejects most rows (the caller continues from the cursor returned). */
    static final int MAX_PAGES_PER_CALL = 20;

    @Override
    public CompletionStage<CursorPage<OffenderSummary>> offenders(OffenderFilter filter, String cursor, int limit) {
        checkPaging(0, limit);
        java.nio.ByteBuffer from;
        try {
            from = cursor == null ? null : java.nio.ByteBuffer.wrap(java.util.Base64.getUrlDecoder().decode(cursor));
        } catch (IllegalArgumentException e) {
            throw CursorPage.notACursor(cursor);
        }
        Optional<CidrRange> range = filter.prefix().map(CidrRange::parse);
        Instant now = runtime.clock().instant();
        List<OffenderSummary> items = new ArrayList<>();
        return nextPages(filter, range, now, from, limit, items, MAX_PAGES_PER_CALL).thenApply(next -> new CursorPage<>(items,
            next == null ? null : java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(next))));
    }

    private CompletionStage<java.nio.ByteBuffer> nextPages(OffenderFilter filter, Optional<CidrRange> range, Instant now, java.nio.ByteBuffer from,
                                                           int limit, List<OffenderSummary> items, int pagesLeft) {
        return store.offenderPage(from, limit - items.size(), (o, reason) -> {
            if (o.isActiveAt(now) && matches(filter, range, o)) {
                items.add(summary(o, reason));
            }
        }).thenCompose(next -> next == null || items.size() >= limit || pagesLeft <= 1 ? CompletableFuture.completedFuture(next)
            : nextPages(filter, range, now, next, limit, items, pagesLeft - 1));
    }

    private static byte[] bytes(java.nio.ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static boolean matches(OffenderFilter filter, Optional<CidrRange> range, Offender o) {
        return (range.isEmpty() || inside(range.get(), o.ip()))
            && (filter.trap().isEmpty() || filter.trap().get().equalsIgnoreCase(o.trap()))
            && (filter.node().isEmpty() || filter.node().get().equals(o.node()));
    }

    @Override
    public CompletionStage<Optional<OffenderEvidence>> offender(String key) {
        String k = canonicalKey(key);
        return store.offenderRow(k).thenCompose(row -> {
            if (row.isEmpty() || row.get().getInstant("expires_at") == null) {
                return CompletableFuture.completedFuture(Optional.<OffenderEvidence>empty());
            }
            Row r = row.get();
            Offender o = new Offender(k, r.getInstant("first_hit"), r.getInstant("last_hit"), r.isNull("hit_count") ? 0 : r.getInt("hit_count"),
                r.getString("trap"), r.getString("helo"), r.getString("mail_from"), r.getString("node"), r.getInstant("expires_at"));
            OffenderSummary s = summary(o, r.getString("reason"));
            return store.hitRows(k).thenApply(hits -> {
                List<OffenderEvidence.Hit> list = new ArrayList<>();
                for (Row h : hits) {
                    list.add(new OffenderEvidence.Hit(h.getString("id"), h.getInstant("at"), h.getString("client"), h.getString("trap"),
                        h.getString("helo"), h.getString("mail_from"), h.getString("node")));
                }
                return Optional.of(new OffenderEvidence(s, list));
            });
        });
    }

    @Override
    public CompletionStage<OffenderSummary> listByHand(String key, Duration lifetime, String reason) {
        String k = canonicalKey(key);
        if (lifetime.isNegative() || lifetime.isZero()) {
            throw new IllegalArgumentException("lifetime " + lifetime + " must be positive");
        }
        CidrRange range = CidrRange.parse(k);
        if (runtime.lists().overlapsAllowlist(range)) {
            throw new IllegalArgumentException("'" + k + "' overlaps the allowlist");
        }
        Duration capped = lifetime.compareTo(runtime.config().policy().maxLifetime()) > 0 ? runtime.config().policy().maxLifetime() : lifetime;
        Instant until = runtime.clock().instant().plus(capped);
        return store.listByHand(k, until, reason == null ? "" : reason).thenApply(o -> {
            runtime.listedHere(o);
            return synced(summary(o, "manual"));
        });
    }

    @Override
    public CompletionStage<Boolean> forgive(String key) {
        String k = canonicalKey(key);
        return store.offenderRow(k).thenCompose(row -> {
            boolean listed = row.isPresent() && row.get().getInstant("expires_at") != null
                && row.get().getInstant("expires_at").isAfter(runtime.clock().instant());
            Optional<String> legacy = legacySpelling(k);
            if (legacy.isPresent()) {
                // an IPv6 prefix listed by an older version under Java's uncompressed spelling: forgiven too
                return store.remove(k).thenCompose(x -> store.remove(legacy.get())).thenApply(x -> synced(listed));
            }
            return store.remove(k).thenApply(x -> synced(listed));
        });
    }

    // ---- allowlist ----

    @Override
    public CompletionStage<Page<AllowlistRecord>> listAllowlist(int offset, int limit) {
        checkPaging(offset, limit);
        return store.allowlistRows().thenApply(rows -> {
            List<AllowlistRecord> all = new ArrayList<>();
            rows.stream().filter(r -> r.getString("cidr") != null).sorted(Comparator.comparing(r -> r.getString("cidr")))
                .forEach(r -> all.add(new AllowlistRecord(r.getString("cidr"), "table", r.getString("comment"), r.getInstant("added_at"))));
            runtime.lists().fileAllowlist().ranges().stream().map(CidrRange::toString).sorted()
                .forEach(c -> all.add(new AllowlistRecord(c, "file", null, null)));
            return page(all, offset, limit);
        });
    }

    @Override
    public CompletionStage<Integer> addAllowlist(String cidr, String comment) {
        CidrRange range = CidrRange.parse(cidr);
        String text = range.toString();
        return store.tableWrite("INSERT INTO %ks.allowlist (cidr, comment, added_at) VALUES (?, ?, ?)", Change.ALLOWLIST, text, comment,
                Instant.now())
            .thenCompose(x -> {
                List<String> inside = new ArrayList<>();
                return store.forEachOffender((o, reason) -> {
                    if (inside(range, o.ip())) {
                        inside.add(o.ip());
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
        return removeAllowlistRow(text).thenCompose(removed -> {
            // an IPv6 range added by an older version under Java's uncompressed spelling
            Optional<String> legacy = legacySpelling(text);
            return removed || legacy.isEmpty() ? CompletableFuture.completedFuture(removed) : removeAllowlistRow(legacy.get());
        });
    }

    private CompletionStage<Boolean> removeAllowlistRow(String text) {
        return store.tableRead("SELECT cidr FROM %ks.allowlist WHERE cidr = ?", text).thenCompose(rows -> {
            if (rows.isEmpty()) {
                return CompletableFuture.completedFuture(false);
            }
            return store.tableWrite("DELETE FROM %ks.allowlist WHERE cidr = ?", Change.ALLOWLIST, text).thenApply(x -> synced(true));
        });
    }

    // ---- health ----

    @Override
    public SpamtrapStatus status() {
        // the agent's side as this node's client last saw it; both empty when no agent is configured
        Boolean agentReachable = runtime.firewall().map(FirewallClient::agentReachable).orElse(null);
        String breaker = runtime.firewall().map(f -> f.agentBreakerOpen() ? "open (the agent refused a block within the last minute)" : "closed")
            .orElse(null);
        return new SpamtrapStatus(runtime.config().nodeName(), runtime.storeReachable(), runtime.spoolDepth(), runtime.viewSize(),
            runtime.syncLag().orElse(null), agentReachable, breaker);
    }

    // ---- helpers ----

    private <T> T synced(T value) {
        runtime.syncSoon();
        return value;
    }

    /** The uncompressed spelling older versions stored IPv6 prefixes under ({@code 2001:db8:0:0:0:0:0:0/48}), if different. */
    static Optional<String> legacySpelling(String key) {
        int slash = key.indexOf('/');
        if (slash < 0 || key.indexOf(':') < 0) {
            return Optional.empty();
        }
        try {
            String old = InetAddress.getByAddress(CidrRange.parse(key).network()).getHostAddress() + key.substring(slash);
            return old.equals(key) ? Optional.empty() : Optional.of(old);
        } catch (java.net.UnknownHostException e) {
            return Optional.empty();
        }
    }

    /** Any spelling of an address or prefix becomes the one key it is stored under ({@link dev.spamtrap.core.net.OffenderKeys#canonicalKey}). */
    private String canonicalKey(String key) {
        return runtime.config().offenderKeys().canonicalKey(key);
    }

    private static boolean inside(CidrRange range, String key) {
        try {
            CidrRange k = CidrRange.parse(key);
            return k.network().length == range.network().length && k.prefixLength() >= range.prefixLength() && range.contains(k.network());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static OffenderSummary summary(Offender o, String reason) {
        return new OffenderSummary(o.ip(), o.firstHit(), o.lastHit(), o.hitCount(), o.trap(), o.node(), o.expiresAt(),
            reason == null ? "trap" : reason);
    }

    private static String kindOf(String entry) {
        try {
            return TrapEntry.parse(entry).kind().name().toLowerCase(Locale.ROOT).replace("regex", "pattern");
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
