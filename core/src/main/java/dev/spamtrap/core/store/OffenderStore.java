package dev.spamtrap.core.store;

import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.TrapHit;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Where offenders, traps and the allowlist live, shared by every James node. Every call is asynchronous:
 * callers on an SMTP event loop must never wait on the returned stage.
 */
public interface OffenderStore extends AutoCloseable {
    /**
     * Records a hit and returns the offender's listing. Idempotent by {@link TrapHit#id()}: recording the same
     * hit again changes nothing. A listing only grows (a write computed from an older read never shortens it) until
     * forgiven.
     */
    CompletionStage<Offender> record(TrapHit hit);

    /**
     * Records several hits, with {@link #record}'s guarantees, and returns each one's listing in the same order.
     * A store may group the hits of one client (a flood is many hits of few clients) to save requests.
     */
    default CompletionStage<List<Offender>> recordAll(List<TrapHit> hits) {
        List<java.util.concurrent.CompletableFuture<Offender>> each = new java.util.ArrayList<>(hits.size());
        for (TrapHit hit : hits) {
            each.add(record(hit).toCompletableFuture());
        }
        return java.util.concurrent.CompletableFuture.allOf(each.toArray(new java.util.concurrent.CompletableFuture[0]))
            .thenApply(x -> {
                List<Offender> out = new java.util.ArrayList<>(each.size());
                each.forEach(f -> out.add(f.join()));
                return out;
            });
    }

    /** Every offender whose entry has not expired, read page by page; malformed rows are skipped and logged. */
    CompletionStage<List<Offender>> loadActive();

    /**
     * Visits every active offender page by page without holding them all (the full load of a node's view);
     * malformed rows are skipped. Completes with the number of rows read.
     */
    default CompletionStage<Long> forEachActive(java.util.function.Consumer<Offender> visitor) {
        return loadActive().thenApply(all -> {
            all.forEach(visitor);
            return (long) all.size();
        });
    }

    /**
     * Visits every listing row, active or not (forgiven keys carry their generation), page by page: a node's full load.
     * Malformed rows are skipped. Completes with the number of rows read.
     */
    default CompletionStage<Long> forEachListing(java.util.function.Consumer<Listing> visitor) {
        return forEachActive(o -> visitor.accept(new Listing(o, "trap", null, 0, null)));
    }

    /**
     * Lists {@code key} for a protocol sensor (a weak {@code cause}: protocol class or observed) until {@code until}, unless
     * it is listed longer or listed now for a stronger cause; announced on the change feed. Completes with the listing
     * written, or empty. A store that keeps no such listings (tests) writes nothing.
     */
    default CompletionStage<java.util.Optional<Offender>> listForProtocol(String key, java.time.Instant until, dev.spamtrap.core.offender.Cause cause,
                                                                          String evidence) {
        return java.util.concurrent.CompletableFuture.completedFuture(java.util.Optional.empty());
    }

    /** Remembers that {@code key} passed the pregreet test until {@code until}; announced on the change feed. */
    default CompletionStage<Void> rememberPass(String key, java.time.Instant until) {
        return java.util.concurrent.CompletableFuture.completedFuture(null);
    }

    /** Visits every pregreet pass not expired (a node's full load); completes with the rows read. */
    default CompletionStage<Long> forEachPass(java.util.function.BiConsumer<String, java.time.Instant> visitor) {
        return java.util.concurrent.CompletableFuture.completedFuture(0L);
    }

    /**
     * As {@link #forEachListing}, for the connect-time view: each listing's key, end, start (as {@code lastHit}), reason
     * and generation only (the rest is null or 0), read as fast as the store can. The visitor is called by one thread at a
     * time, not always the same one. Completes with the number of rows read.
     */
    default CompletionStage<Long> forEachViewListing(java.util.function.Consumer<Listing> visitor) {
        return forEachListing(visitor);
    }

    /** Forgives an offender: unlisted now, its hits made before their node knew of it never count again; announced on the change feed. */
    CompletionStage<Void> remove(String key);

    /** Every writer of the change feed, as registered (a writer appears before its first entry lands). */
    CompletionStage<List<FeedSource>> feedSources();

    /** The last sequence number {@code source} has written (0 if none). */
    CompletionStage<Long> feedHead(FeedSource source);

    /** {@code source}'s entries after sequence number {@code seq}, in order (a row's entries share its number). */
    CompletionStage<List<Change>> changesAfter(FeedSource source, long seq);

    /** Raw trap entries from the store's trap table (validated by the caller). */
    CompletionStage<List<String>> loadTrapEntries();

    /** Raw CIDR ranges from the store's allowlist table (validated by the caller). */
    CompletionStage<List<String>> loadAllowlistEntries();

    // ---- what an administrator reads and changes (WebAdmin); every change is announced on the change feed ----

    /**
     * One page of listings (at most {@code size}) after {@code cursor} (null: the start). Completes with the cursor that
     * continues, or null at the end.
     *
     * @throws IllegalArgumentException if {@code cursor} is not one this method returned
     */
    CompletionStage<String> listingPage(String cursor, int size, java.util.function.Consumer<Listing> visitor);

    /** One offender's listing and evidence, if it has a listing. */
    CompletionStage<java.util.Optional<Listing>> offender(String key);

    /** Forgives {@code key}; completes with whether it was listed. */
    CompletionStage<Boolean> forgive(String key);

    /** Lists {@code key} by hand until {@code until} ({@code note} kept as its cause), unless listed longer. */
    CompletionStage<Offender> listByHand(String key, java.time.Instant until, String note);

    /** The trap table's entries, sorted. */
    CompletionStage<List<TableEntry>> traps();

    /** The allowlist table's ranges, sorted. */
    CompletionStage<List<TableEntry>> allowlist();

    /** Adds a trap entry (already validated) unless present. Completes with whether it was added. */
    CompletionStage<Boolean> addTrap(String entry, String comment, java.time.Instant at);

    /** Removes a trap entry; completes with whether it was there. */
    CompletionStage<Boolean> removeTrap(String entry);

    /** Adds an allowlisted range (already normalised), or replaces its comment. */
    CompletionStage<Void> addAllowed(String cidr, String comment, java.time.Instant at);

    /** Removes an allowlisted range; completes with whether it was there. */
    CompletionStage<Boolean> removeAllowed(String cidr);

    @Override
    void close();
}
