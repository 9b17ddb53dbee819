package dev.spamtrap.core.runtime;

import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.store.Change;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.spamtrap.core.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Other nodes' listings and removals arrive through the change feed; removals reach the listeners. */
class ChangeFeedSyncTest {
    @TempDir
    Path dir;

    /** Our fake store: an empty table plus a feed the test appends to. */
    static final class FeedStore extends SpamtrapStoreOutageTest.FakeStore {
        final List<Change> feed = new CopyOnWriteArrayList<>();
        final List<Offender> table = new CopyOnWriteArrayList<>();

        FeedStore() {
            up.set(true);
        }

        @Override
        public CompletionStage<List<Offender>> loadActive() {
            return CompletableFuture.completedFuture(List.copyOf(table));
        }

        @Override
        public CompletionStage<List<Change>> changesSince(Instant from) {
            return CompletableFuture.completedFuture(List.copyOf(feed));
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
                    recorded.add(offender.ip());
                }

                @Override
                public void offenderRemoved(String ip) {
                    removed.add(ip);
                }
            });
            assertThat(spamtrap.activeOffender("192.0.2.1")).as("loaded at start").isPresent();
            store.feed.add(new Change(UUID.randomUUID(), Change.LISTED, "192.0.2.2", until, "other"));
            await(() -> spamtrap.activeOffender("192.0.2.2").isPresent());
            await(() -> recorded.contains("192.0.2.2"));
            store.feed.add(new Change(UUID.randomUUID(), Change.REMOVED, "192.0.2.1", null, "admin"));
            await(() -> spamtrap.activeOffender("192.0.2.1").isEmpty());
            await(() -> removed.contains("192.0.2.1"));
            // the same entries read again (lookback) are not applied twice
            Thread.sleep(400);
            assertThat(removed).containsExactly("192.0.2.1");
            assertThat(recorded).containsExactly("192.0.2.2");
            assertThat(spamtrap.syncLag()).isPresent();
            assertThat(spamtrap.viewSize()).isGreaterThanOrEqualTo(1);
        }
    }
}
