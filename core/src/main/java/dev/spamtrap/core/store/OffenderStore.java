package dev.spamtrap.core.store;

import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.TrapHit;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Where offenders, traps and the allowlist live, shared by every James node. Every call is asynchronous:
 * callers on an SMTP event loop must never wait on the returned stage.
 */
public interface OffenderStore extends AutoCloseable {
    /**
     * Records a hit and returns the offender's listing. Idempotent by {@link TrapHit#id()}: recording the same
     * hit again changes nothing; hits of one client recorded concurrently by several nodes are all counted.
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
     * Visits the key of every client with hits stored (once after start, for {@link ClientHistory}). A store that
     * cannot list them fails, and its clients are then always recorded the careful way.
     */
    default CompletionStage<Long> forEachClientWithHits(java.util.function.Consumer<String> visitor) {
        return java.util.concurrent.CompletableFuture.failedFuture(new UnsupportedOperationException("this store cannot list its clients"));
    }

    /** Removes an offender (and its escalation history) before its entry expires; announced on the change feed. */
    CompletionStage<Void> remove(String ip);

    /** Change-feed entries made at or after {@code from}, oldest first. */
    CompletionStage<List<Change>> changesSince(Instant from);

    /** Raw trap entries from the store's trap table (validated by the caller). */
    CompletionStage<List<String>> loadTrapEntries();

    /** Raw CIDR ranges from the store's allowlist table (validated by the caller). */
    CompletionStage<List<String>> loadAllowlistEntries();

    @Override
    void close();
}
