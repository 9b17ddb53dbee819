package dev.spamtrap.james.routes;

import dev.spamtrap.core.admin.AllowlistRecord;
import dev.spamtrap.core.admin.CursorPage;
import dev.spamtrap.core.admin.ImportResult;
import dev.spamtrap.core.admin.OffenderEvidence;
import dev.spamtrap.core.admin.OffenderFilter;
import dev.spamtrap.core.admin.OffenderSummary;
import dev.spamtrap.core.admin.Page;
import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.core.admin.SpamtrapStatus;
import dev.spamtrap.core.admin.TrapRecord;
import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.trap.TrapEntry;
import dev.spamtrap.core.trap.TrapList;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/** An in-memory SpamtrapAdmin for the route tests: validates as the contract says, keeps everything in maps. */
final class FakeSpamtrapAdmin implements SpamtrapAdmin {
    static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");

    final Map<String, TrapRecord> traps = new TreeMap<>();
    final Map<String, OffenderSummary> offenders = new TreeMap<>();
    final Map<String, AllowlistRecord> allowlist = new TreeMap<>();
    volatile boolean storeUp = true;

    @Override
    public CompletionStage<Page<TrapRecord>> listTraps(int offset, int limit) {
        return done(page(new ArrayList<>(traps.values()), offset, limit));
    }

    @Override
    public CompletionStage<Boolean> addTrap(String entry, String comment) {
        TrapEntry parsed = TrapEntry.parse(entry);
        String kind = parsed.kind().name().toLowerCase();
        return done(traps.putIfAbsent(parsed.text(), new TrapRecord(parsed.text(), kind, "table", comment, NOW)) == null);
    }

    @Override
    public CompletionStage<Boolean> removeTrap(String entry) {
        return done(traps.remove(entry) != null);
    }

    @Override
    public CompletionStage<ImportResult> importTraps(List<String> entries, String comment) {
        int added = 0;
        int present = 0;
        List<String> refused = new ArrayList<>();
        for (String e : entries) {
            try {
                if (addTrap(e, comment).toCompletableFuture().join()) {
                    added++;
                } else {
                    present++;
                }
            } catch (IllegalArgumentException ex) {
                refused.add(e + ": " + ex.getMessage());
            }
        }
        return done(new ImportResult(added, present, refused));
    }

    @Override
    public Optional<TrapEntry> checkAddress(String address) {
        return new TrapList(traps.keySet().stream().map(TrapEntry::parse).collect(Collectors.toList())).match(address);
    }

    @Override
    public CompletionStage<CursorPage<OffenderSummary>> offenders(OffenderFilter filter, String cursor, int limit) {
        int offset;
        try {
            offset = cursor == null ? 0 : Integer.parseInt(cursor);
        } catch (NumberFormatException e) {
            throw CursorPage.notACursor(cursor);
        }
        List<OffenderSummary> matching = offenders.values().stream()
            .filter(o -> filter.trap().map(t -> t.equals(o.lastTrap())).orElse(true))
            .filter(o -> filter.node().map(n -> n.equals(o.lastNode())).orElse(true))
            .filter(o -> filter.prefix().map(p -> inside(p, o.key())).orElse(true))
            .collect(Collectors.toList());
        Page<OffenderSummary> p = page(matching, offset, limit);
        return done(new CursorPage<>(p.items(), p.hasMore() ? Integer.toString(offset + p.items().size()) : null));
    }

    private static boolean inside(String prefix, String key) {
        CidrRange range = CidrRange.parse(prefix);
        try {
            return range.contains(InetAddress.getByName(key.contains("/") ? key.substring(0, key.indexOf('/')) : key));
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public CompletionStage<Optional<OffenderEvidence>> offender(String key) {
        return done(Optional.ofNullable(offenders.get(key)).map(s -> new OffenderEvidence(s, List.of(
            new OffenderEvidence.Hit("h1", s.firstHit(), key, s.lastTrap(), "bot.test", "spam@bot.test", s.lastNode())))));
    }

    @Override
    public CompletionStage<OffenderSummary> listByHand(String key, Duration lifetime, String reason) {
        CidrRange.parse(key);
        OffenderSummary s = new OffenderSummary(key, NOW, NOW, 0, null, "fake-node", NOW.plus(lifetime), reason);
        offenders.put(key, s);
        return done(s);
    }

    @Override
    public CompletionStage<Boolean> forgive(String key) {
        return done(offenders.remove(key) != null);
    }

    @Override
    public CompletionStage<Page<AllowlistRecord>> listAllowlist(int offset, int limit) {
        return done(page(new ArrayList<>(allowlist.values()), offset, limit));
    }

    @Override
    public CompletionStage<Integer> addAllowlist(String cidr, String comment) {
        CidrRange.parse(cidr);
        allowlist.put(cidr, new AllowlistRecord(cidr, "table", comment, NOW));
        List<String> inside = offenders.keySet().stream().filter(k -> inside(cidr, k)).collect(Collectors.toList());
        inside.forEach(offenders::remove);
        return done(inside.size());
    }

    @Override
    public CompletionStage<Boolean> removeAllowlist(String cidr) {
        return done(allowlist.remove(cidr) != null);
    }

    @Override
    public SpamtrapStatus status() {
        return new SpamtrapStatus("fake-node", storeUp, 3, offenders.size(), Duration.ofSeconds(2), null, null);
    }

    void offender(String key, String trap, String node, Instant expires) {
        offenders.put(key, new OffenderSummary(key, NOW, NOW, 1, trap, node, expires, "trap"));
    }

    private static <T> Page<T> page(List<T> all, int offset, int limit) {
        int from = Math.min(offset, all.size());
        int to = Math.min(all.size(), from + limit);
        return new Page<>(all.subList(from, to), offset, to < all.size());
    }

    private static <T> CompletionStage<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
