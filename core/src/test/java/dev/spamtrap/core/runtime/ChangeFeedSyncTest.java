package dev.spamtrap.core.runtime;

import dev.spamtrap.core.offender.OffenderListener;
import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.store.Change;
import dev.spamtrap.core.store.FeedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.spamtrap.core.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Other nodes' listings and removals arrive through the change feed; removals reach the listeners. */
class ChangeFeedSyncTest {
    @TempDir
    Path dir;

    static final FeedSource OTHER = new FeedSource("other", "e1");
    static final FeedSource ADMIN = new FeedSource("admin", "e2");

    /** Our fake store: a table plus a feed the test appends to; reads honour the sequence asked for, as Cassandra does. */
    static final class FeedStore extends SpamtrapStoreOutageTest.FakeStore {
        final List<Change> feed = new CopyOnWriteArrayList<>();
        final List<Offender> table = new CopyOnWriteArrayList<>();
        final List<Long> readsAfter = new CopyOnWriteArrayList<>();

        FeedStore() {
            up.set(true);
        }

        @Override
        public CompletionStage<List<Offender>> loadActive() {
            return CompletableFuture.completedFuture(List.copyOf(table));
        }

        @Override
        public CompletionStage<List<FeedSource>> feedSources() {
            return CompletableFuture.completedFuture(List.of(OTHER, ADMIN));
        }

        @Override
        public CompletionStage<Long> feedHead(FeedSource source) {
            return CompletableFuture.completedFuture(feed.stream().filter(c -> c.source().equals(source)).mapToLong(Change::seq).max().orElse(0));
        }

        @Override
        public CompletionStage<List<Change>> changesAfter(FeedSource source, long seq) {
            readsAfter.add(seq);
            return CompletableFuture.completedFuture(feed.stream().filter(c -> c.source().equals(source) && c.seq() > seq)
                .sorted(java.util.Comparator.comparingLong(Change::seq)).collect(java.util.stream.Collectors.toList()));
        }
    }

    private SpamtrapConfig config() throws Exception {
        Path p = dir.resolve("conf/spamtrap.properties");
        Files.createDirectories(p.getParent());
        Files.writeString(p, "sync.interval=100ms\nretry.interval=100ms\nstartup.timeout=5s\nspool.directory=../spool\nnode.name=me\n");
        return SpamtrapConfig.load(p);
    }


    @Test
    void listingsAndRemovalsFromOtherNodesReachTheViewAndTheListeners() throws Exception {
        FeedStore store = new FeedStore();
        Instant until = Instant.now().plusSeconds(3600);
        store.table.add(new Offender("192.0.2.1", null, null, 1, "t", "", "", "other", until));
        List<String> recorded = new CopyOnWriteArrayList<>();
        List<String> removed = new CopyOnWriteArrayList<>();
        try (Spamtrap spamtrap = Spamtrap.startWith(config(), Clock.systemUTC(), store, store)) {
            spamtrap.addListener(new OffenderListener() {
                @Override
                public void offenderRecorded(Offender offender) {
                    recorded.add(offender.key());
                }

                @Override
                public void offenderRemoved(String key) {
                    removed.add(key);
                }
            });
            assertThat(spamtrap.activeListing("192.0.2.1")).as("loaded at start").isPresent();
            store.feed.add(new Change(OTHER, 1, Change.LISTED, "192.0.2.2", until, 0));
            await(() -> spamtrap.activeListing("192.0.2.2").isPresent());
            await(() -> recorded.contains("192.0.2.2"));
            store.feed.add(new Change(ADMIN, 1, Change.REMOVED, "192.0.2.1", null, 1));
            await(() -> spamtrap.activeListing("192.0.2.1").isEmpty());
            await(() -> removed.contains("192.0.2.1"));
            // entries are read after the last applied: never applied twice
            Thread.sleep(400);
            assertThat(removed).containsExactly("192.0.2.1");
            assertThat(recorded).containsExactly("192.0.2.2");
            assertThat(spamtrap.syncLag()).isPresent();
            assertThat(spamtrap.viewSize()).isGreaterThanOrEqualTo(1);
        }
    }

    /**
     * A row that lands late is applied when it lands, however late, and a later row seen first waits for it: the
     * reader holds "applied up to n" per writer and compares no clocks.
     */
    @Test
    void aLateRowIsAppliedWhenItLandsAndALaterRowWaitsForIt() throws Exception {
        FeedStore store = new FeedStore();
        Instant until = Instant.now().plusSeconds(3600);
        try (Spamtrap spamtrap = Spamtrap.startWith(config(), Clock.systemUTC(), store, store)) {
            store.feed.add(new Change(OTHER, 1, Change.LISTED, "192.0.2.11", until, 0));
            await(() -> spamtrap.activeListing("192.0.2.11").isPresent());
            // row 3 lands before row 2 (row 2's write was slow): 3 waits, nothing of it applied yet
            store.feed.add(new Change(OTHER, 3, Change.LISTED, "192.0.2.13", until, 0));
            Thread.sleep(500);
            assertThat(spamtrap.activeListing("192.0.2.13")).as("row 3 waits for row 2").isEmpty();
            // row 2, made long ago by a writer whose clock is far behind, lands now
            store.feed.add(new Change(OTHER, 2, Change.LISTED, "192.0.2.12", Instant.now().plusSeconds(600), 0));
            await(() -> spamtrap.activeListing("192.0.2.12").isPresent());
            await(() -> spamtrap.activeListing("192.0.2.13").isPresent());
            Thread.sleep(300);
            assertThat(store.readsAfter).as("each read starts after the last row applied").contains(0L, 1L, 3L).doesNotContain(2L);
        }
    }
}
