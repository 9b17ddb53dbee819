package dev.spamtrap.core.runtime;

import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.store.HitSpool;
import dev.spamtrap.core.store.QuietStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.spamtrap.core.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The replay pipeline: several batches in flight, confirmed in spool order, replayed from the checkpoint after a failure. */
class SpoolReplayTest {
    @TempDir
    Path dir;

    /** Completes each recordAll when the test says so; remembers every hit id it was given. */
    static class HeldStore extends QuietStore {
        final List<CompletableFuture<List<Offender>>> pending = new CopyOnWriteArrayList<>();
        final List<List<TrapHit>> calls = new CopyOnWriteArrayList<>();
        final Set<String> stored = ConcurrentHashMap.newKeySet();
        final Map<String, Integer> times = new ConcurrentHashMap<>();

        @Override
        public CompletionStage<List<Offender>> recordAll(List<TrapHit> hits) {
            CompletableFuture<List<Offender>> f = new CompletableFuture<>();
            calls.add(hits);
            pending.add(f);
            return f.thenApply(x -> {
                List<Offender> out = new ArrayList<>();
                for (TrapHit h : hits) {
                    stored.add(h.id());
                    times.merge(h.id(), 1, Integer::sum);
                    out.add(new Offender(h.key(), h.at(), h.at(), 1, h.trap(), h.helo(), h.mailFrom(), h.node(), h.at().plusSeconds(3600)));
                }
                return out;
            });
        }

        void complete(int call) {
            pending.get(call).complete(List.of());
        }
    }

    /** Answers each recordAll at once: failed with what {@code failure} gives for the call's number and hits, else stored. */
    static class AnsweringStore extends HeldStore {
        private final java.util.function.BiFunction<Integer, List<TrapHit>, RuntimeException> failure;

        AnsweringStore(java.util.function.BiFunction<Integer, List<TrapHit>, RuntimeException> failure) {
            this.failure = failure;
        }

        @Override
        public synchronized CompletionStage<List<Offender>> recordAll(List<TrapHit> hits) {
            CompletionStage<List<Offender>> f = super.recordAll(hits);
            int call = calls.size() - 1;
            RuntimeException e = failure.apply(call, hits);
            if (e == null) {
                pending.get(call).complete(List.of());
            } else {
                pending.get(call).completeExceptionally(e);
            }
            return f;
        }
    }

    /** A replay of batches of 10 that confirms into nothing, retrying every {@code retry}. */
    private static SpoolReplay replay(HitSpool spool, HeldStore store, Duration retry, Duration storeWait) {
        return new SpoolReplay(spool, store, link(), new Listeners(), o -> { }, SpoolReplay.Allowlisted.NONE, 10, retry, storeWait);
    }

    private static boolean holds(List<TrapHit> hits, String id) {
        return hits.stream().anyMatch(h -> h.id().equals(id));
    }

    private static TrapHit hit(int n) {
        String ip = "192.0." + (n / 250) + "." + (n % 250 + 1);
        return new TrapHit("hit-" + n, ip, ip, Instant.parse("2026-11-23T10:00:00Z").plusMillis(n), "t@example.com", "h", "m@x.y", "n");
    }

    private static StoreLink link() {
        return new StoreLink(AlwaysConnected.CONNECTOR);
    }


    @Test
    void batchesAreStoredConcurrentlyAndConfirmedInSpoolOrder() throws Exception {
        HeldStore store = new HeldStore();
        List<Offender> confirmed = Collections.synchronizedList(new ArrayList<>());
        try (HitSpool spool = new HitSpool(dir, 1 << 24)) {
            SpoolReplay recorder = new SpoolReplay(spool, store, link(), new Listeners(), confirmed::add, SpoolReplay.Allowlisted.NONE, 10, Duration.ofMillis(50), Duration.ofSeconds(30));
            List<TrapHit> hits = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                hits.add(hit(i));
            }
            spool.append(hits); // before start: the replayer finds three batches of 10 at once
            recorder.start();
            await(() -> store.calls.size() == 3);
            // three batches in flight together: none waited for the one before
            assertThat(store.calls).extracting(List::size).containsExactly(10, 10, 10);

            store.complete(2);
            store.complete(1);
            Thread.sleep(200);
            // the later batches are stored, but the first is not: nothing is confirmed, the checkpoint has not moved
            assertThat(recorder.stored()).isZero();
            assertThat(spool.depth()).isEqualTo(30);
            assertThat(confirmed).isEmpty();

            store.complete(0);
            await(() -> recorder.stored() == 30);
            assertThat(spool.depth()).isZero();
            assertThat(confirmed).extracting(Offender::key).containsExactlyElementsOf(hits.stream().map(TrapHit::key).collect(java.util.stream.Collectors.toList()));
            recorder.close();
        }
    }

    /**
     * A slow answer at the head holds back the checkpoint, not the store: batches after it keep being stored (up to
     * {@link SpoolReplay#HITS_UNCONFIRMED} read ahead) while only the head's hits count as in flight.
     */
    @Test
    void aSlowHeadDoesNotHoldBackTheBatchesAfterIt() throws Exception {
        HeldStore store = new HeldStore() {
            @Override
            public synchronized CompletionStage<List<Offender>> recordAll(List<TrapHit> hits) {
                CompletionStage<List<Offender>> f = super.recordAll(hits);
                if (calls.size() > 1) {
                    complete(calls.size() - 1); // every group answers at once but the very first
                }
                return f;
            }
        };
        List<Offender> confirmed = Collections.synchronizedList(new ArrayList<>());
        try (HitSpool spool = new HitSpool(dir, 1 << 24)) {
            SpoolReplay recorder = new SpoolReplay(spool, store, link(), new Listeners(), confirmed::add, SpoolReplay.Allowlisted.NONE, 512,
                Duration.ofMillis(50), Duration.ofSeconds(30));
            List<TrapHit> hits = new ArrayList<>();
            for (int i = 0; i < 6000; i++) {
                hits.add(hit(i));
            }
            spool.append(hits);
            recorder.start();
            // far more than HITS_IN_FLIGHT (2,048) reach the store while the first group has no answer
            await(() -> store.calls.stream().mapToInt(List::size).sum() == 6000);
            assertThat(recorder.stored()).isZero();
            assertThat(spool.depth()).isEqualTo(6000);
            assertThat(confirmed).isEmpty();

            store.complete(0);
            await(() -> recorder.stored() == 6000);
            assertThat(spool.depth()).isZero();
            assertThat(confirmed).extracting(Offender::key).containsExactlyElementsOf(hits.stream().map(TrapHit::key).collect(java.util.stream.Collectors.toList()));
            recorder.close();
        }
    }

    /**
     * Hits spooled before their range was allowlisted (e.g. during an outage) are never stored: nothing is replayed before
     * the shared allowlist is known, a covered hit is confirmed without being stored (its spool line done, its local listing
     * counted down, counted apart from the stored hits), and the others are stored as usual.
     */
    @Test
    void spooledHitsOfARangeAllowlistedSinceAreConfirmedWithoutBeingStored() throws Exception {
        HeldStore store = new AnsweringStore((call, hits) -> null);
        AtomicBoolean known = new AtomicBoolean();
        dev.spamtrap.core.net.CidrRange allowed = dev.spamtrap.core.net.CidrRange.parse("192.0.0.0/29");
        SpoolReplay.Allowlisted allowlist = new SpoolReplay.Allowlisted() {
            @Override
            public boolean known() {
                return known.get();
            }

            @Override
            public boolean covers(String key) {
                return allowed.overlaps(dev.spamtrap.core.net.CidrRange.parse(key));
            }
        };
        List<Offender> confirmed = new CopyOnWriteArrayList<>();
        try (HitSpool spool = new HitSpool(dir, 1 << 24)) {
            List<TrapHit> hits = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                hits.add(hit(i)); // 192.0.0.1 .. 192.0.0.20: .1 to .7 inside the allowlisted /29
            }
            spool.append(hits);
            SpoolReplay recorder = new SpoolReplay(spool, store, link(), new Listeners(), confirmed::add, allowlist, 10, Duration.ofMillis(20),
                Duration.ofSeconds(5));
            recorder.start();
            Thread.sleep(300);
            assertThat(store.calls).as("nothing replayed before the allowlist is known").isEmpty();
            known.set(true);
            await(() -> confirmed.size() == 20); // the last step of a batch's confirmation
            assertThat(store.stored).as("stored: the hits outside the allowlist, each once")
                .containsExactlyInAnyOrderElementsOf(hits.subList(7, 20).stream().map(TrapHit::id).collect(java.util.stream.Collectors.toList()));
            assertThat(store.times.values()).containsOnly(1);
            assertThat(recorder.stored()).isEqualTo(13);
            assertThat(recorder.allowlisted()).isEqualTo(7);
            assertThat(recorder.depth()).isZero();
            // every hit confirmed once (its local listing counted down); the allowlisted ones list nothing
            assertThat(confirmed).hasSize(20);
            assertThat(confirmed).filteredOn(o -> allowed.overlaps(dev.spamtrap.core.net.CidrRange.parse(o.key())))
                .hasSize(7).allMatch(o -> !o.isActiveAt(Instant.parse("2026-11-23T10:00:01Z")));
            recorder.close();
        }
    }

    @Test
    void aFailedBatchIsReplayedFromTheCheckpointAndNothingIsLost() throws Exception {
        AtomicBoolean failNext = new AtomicBoolean(true);
        HeldStore store = new AnsweringStore((call, hits) ->
            call == 1 && failNext.getAndSet(false) ? new IllegalStateException("write timed out") : null);
        try (HitSpool spool = new HitSpool(dir, 1 << 24)) {
            SpoolReplay recorder = replay(spool, store, Duration.ofMillis(50), Duration.ofSeconds(30));
            recorder.start();
            for (int i = 0; i < 100; i++) {
                recorder.submit(hit(i));
            }
            await(() -> recorder.stored() >= 100 && spool.depth() == 0);
            for (int i = 0; i < 100; i++) {
                assertThat(store.stored).contains("hit-" + i);
            }
            // the failed batch's hits were given again; those of batches that had landed may be too (idempotent store)
            assertThat(store.calls.size()).isGreaterThan(10);
            recorder.close();
        }
        try (HitSpool spool = new HitSpool(dir, 1 << 24)) {
            assertThat(spool.readAll()).isEmpty();
        }
    }

    /**
     * A hit the store always refuses (a poison hit) fails its batch; after a bounded number of attempts the batch's hits
     * are stored one by one, the poison one is skipped and logged, every other hit is stored, and recording goes on.
     */
    @Test
    void aPoisonHitIsIsolatedAndSkippedAndRecordingGoesOn() throws Exception {
        HeldStore store = new AnsweringStore((call, hits) -> holds(hits, "hit-13") ? new IllegalArgumentException("Batch too large") : null);
        try (HitSpool spool = new HitSpool(dir, 1 << 24)) {
            SpoolReplay recorder = replay(spool, store, Duration.ofMillis(20), Duration.ofSeconds(5));
            recorder.start();
            for (int i = 0; i < 50; i++) {
                recorder.submit(hit(i));
            }
            await(() -> recorder.depth() == 0 && recorder.stored() + recorder.skipped() == 50);
            assertThat(recorder.skipped()).isEqualTo(1);
            assertThat(recorder.stored()).isEqualTo(49);
            for (int i = 0; i < 50; i++) {
                if (i != 13) {
                    assertThat(store.stored).contains("hit-" + i);
                }
            }
            assertThat(store.stored).doesNotContain("hit-13");
            // attempts at the poisoned batch were bounded
            assertThat(store.calls.stream().filter(c -> holds(c, "hit-13")).count())
                .isEqualTo(SpoolReplay.ATTEMPTS_BEFORE_ISOLATION + 1L);
            recorder.submit(hit(60));
            await(() -> store.stored.contains("hit-60"));
            recorder.close();
        }
    }

    /** During an outage (nothing answers) nothing is ever skipped, however many attempts fail. */
    @Test
    void anOutageSkipsNothing() throws Exception {
        AtomicBoolean down = new AtomicBoolean(true);
        HeldStore store = new AnsweringStore((call, hits) -> down.get() ? new IllegalStateException("connection refused") : null) {
            @Override
            public CompletionStage<List<String>> loadTrapEntries() {
                return down.get() ? CompletableFuture.failedFuture(new IllegalStateException("connection refused")) : super.loadTrapEntries();
            }
        };
        try (HitSpool spool = new HitSpool(dir, 1 << 24)) {
            SpoolReplay recorder = replay(spool, store, Duration.ofMillis(20), Duration.ofSeconds(5));
            recorder.start();
            for (int i = 0; i < 20; i++) {
                recorder.submit(hit(i));
            }
            await(() -> store.calls.size() > 20 && spool.depth() == 20);
            assertThat(recorder.skipped()).isZero();
            assertThat(spool.depth()).isEqualTo(20);
            down.set(false);
            await(() -> spool.depth() == 0 && recorder.stored() == 20);
            assertThat(recorder.skipped()).isZero();
            recorder.close();
        }
    }

    /** A hit that times out (or finds no replica) is a fault, not poison: it is never skipped, however often it fails. */
    @Test
    void aHitThatTimesOutIsNeverSkipped() throws Exception {
        AtomicBoolean slow = new AtomicBoolean(true);
        HeldStore store = new AnsweringStore((call, hits) -> slow.get() && holds(hits, "hit-3")
            ? new IllegalStateException("WriteTimeoutException: Cassandra timeout during write query") : null);
        try (HitSpool spool = new HitSpool(dir, 1 << 24)) {
            SpoolReplay recorder = replay(spool, store, Duration.ofMillis(20), Duration.ofSeconds(5));
            recorder.start();
            for (int i = 0; i < 10; i++) {
                recorder.submit(hit(i));
            }
            await(() -> store.calls.stream().filter(c -> c.size() == 1).count() >= 3);
            assertThat(recorder.skipped()).isZero();
            assertThat(store.stored).doesNotContain("hit-3");
            slow.set(false);
            await(() -> recorder.depth() == 0 && store.stored.contains("hit-3"));
            assertThat(recorder.skipped()).isZero();
            recorder.close();
        }
    }
}
