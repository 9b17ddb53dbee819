package dev.spamtrap.core.store;

import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.TrapHit;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** A fake store that holds nothing and answers at once; tests override what they watch (recordAll, or record and recordAll). */
public abstract class QuietStore implements OffenderStore {
    @Override
    public CompletionStage<Offender> record(TrapHit hit) {
        return recordAll(List.of(hit)).thenApply(l -> l.get(0));
    }

    /** The interface's own recordAll (one record per hit), for subclasses that override it and then delegate. */
    protected final CompletionStage<List<Offender>> defaultRecordAll(List<TrapHit> hits) {
        return OffenderStore.super.recordAll(hits);
    }

    @Override
    public CompletionStage<List<Offender>> loadActive() {
        return CompletableFuture.completedFuture(List.of());
    }

    @Override
    public CompletionStage<Void> remove(String key) {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<List<FeedSource>> feedSources() {
        return CompletableFuture.completedFuture(List.of());
    }

    @Override
    public CompletionStage<Long> feedHead(FeedSource source) {
        return CompletableFuture.completedFuture(0L);
    }

    @Override
    public CompletionStage<List<Change>> changesAfter(FeedSource source, long seq) {
        return CompletableFuture.completedFuture(List.of());
    }

    @Override
    public CompletionStage<List<String>> loadTrapEntries() {
        return CompletableFuture.completedFuture(List.of());
    }

    @Override
    public CompletionStage<List<String>> loadAllowlistEntries() {
        return CompletableFuture.completedFuture(List.of());
    }

    @Override
    public CompletionStage<String> listingPage(String cursor, int size, java.util.function.Consumer<Listing> visitor) {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<java.util.Optional<Listing>> offender(String key) {
        return CompletableFuture.completedFuture(java.util.Optional.empty());
    }

    @Override
    public CompletionStage<Boolean> forgive(String key) {
        return CompletableFuture.completedFuture(false);
    }

    @Override
    public CompletionStage<Offender> listByHand(String key, java.time.Instant until, String note) {
        return CompletableFuture.completedFuture(new Offender(key, null, null, 0, null, null, null, null, until));
    }

    @Override
    public CompletionStage<List<TableEntry>> traps() {
        return CompletableFuture.completedFuture(List.of());
    }

    @Override
    public CompletionStage<List<TableEntry>> allowlist() {
        return CompletableFuture.completedFuture(List.of());
    }

    @Override
    public CompletionStage<Boolean> addTrap(String entry, String comment, java.time.Instant at) {
        return CompletableFuture.completedFuture(false);
    }

    @Override
    public CompletionStage<Boolean> removeTrap(String entry) {
        return CompletableFuture.completedFuture(false);
    }

    @Override
    public CompletionStage<Void> addAllowed(String cidr, String comment, java.time.Instant at) {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Boolean> removeAllowed(String cidr) {
        return CompletableFuture.completedFuture(false);
    }

    @Override
    public void close() {
    }
}
