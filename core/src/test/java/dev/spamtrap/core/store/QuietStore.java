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
    public CompletionStage<Void> remove(String ip) {
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
    public void close() {
    }
}
