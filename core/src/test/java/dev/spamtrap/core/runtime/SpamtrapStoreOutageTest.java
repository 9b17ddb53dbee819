package dev.spamtrap.core.runtime;

import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.store.OffenderStore;
import dev.spamtrap.core.store.QuietStore;
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
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.spamtrap.core.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;

/** A store that is down loses nothing: hits are refused locally at once, spooled, and replayed in order. */
class SpamtrapStoreOutageTest {
    @TempDir
    Path dir;

    /** Our own fake of the store interface: fails while "down", records otherwise. */
    static class FakeStore extends QuietStore implements Spamtrap.Connector {
        final AtomicBoolean up = new AtomicBoolean(false);
        final List<TrapHit> recorded = new CopyOnWriteArrayList<>();
        final List<List<TrapHit>> groups = new CopyOnWriteArrayList<>();

        @Override
        public CompletionStage<List<Offender>> recordAll(List<TrapHit> hits) {
            if (up.get()) {
                groups.add(List.copyOf(hits));
            }
            return defaultRecordAll(hits);
        }

        @Override
        public boolean isConnected() {
            return up.get();
        }

        @Override
        public void connect() {
            if (!up.get()) {
                throw new IllegalStateException("connection refused");
            }
        }

        @Override
        public CompletionStage<Offender> record(TrapHit hit) {
            if (!up.get()) {
                return CompletableFuture.failedFuture(new IllegalStateException("down"));
            }
            recorded.add(hit);
            return CompletableFuture.completedFuture(new Offender(hit.key(), hit.at(), hit.at(), 1, hit.trap(), hit.helo(), hit.mailFrom(),
                hit.node(), hit.at().plusSeconds(3600)));
        }

        @Override
        public CompletionStage<List<Offender>> loadActive() {
            return up.get() ? CompletableFuture.completedFuture(List.of()) : CompletableFuture.failedFuture(new IllegalStateException("down"));
        }


        @Override
        public CompletionStage<List<dev.spamtrap.core.store.FeedSource>> feedSources() {
            return up.get() ? CompletableFuture.completedFuture(List.of()) : CompletableFuture.failedFuture(new IllegalStateException("down"));
        }



    }

    private SpamtrapConfig config() throws Exception {
        Path p = dir.resolve("conf/spamtrap.properties");
        Files.createDirectories(p.getParent());
        Files.writeString(p, "retry.interval=100ms\nrefresh.interval=100ms\nstartup.timeout=500ms\nspool.directory=../spool\n");
        return SpamtrapConfig.load(p);
    }

    private static TrapHit hit(String ip, int n) {
        return new TrapHit(ip, Instant.now(), "trap" + n + "@example.com", "helo", "from@x.y", "node");
    }


    @Test
    void hitsWhileStoreIsDownAreRefusedLocallySpooledAndReplayedInOrder() throws Exception {
        FakeStore store = new FakeStore();
        SpamtrapConfig config = config();
        Path spool = dir.resolve("spool/hits.spool");
        try (Spamtrap spamtrap = Spamtrap.startWith(config, Clock.systemUTC(), store, store)) {
            spamtrap.recordHit(hit("192.0.2.1", 1));
            spamtrap.recordHit(hit("2001:db8::1", 2));
            assertThat(spamtrap.activeListing("192.0.2.1")).isPresent();
            assertThat(spamtrap.activeListing("2001:db8::1")).isPresent();
            await(() -> Files.exists(spool) && lines(spool) == 2);
            Thread.sleep(300);
            assertThat(store.recorded).isEmpty();

            store.up.set(true);
            await(() -> store.recorded.size() == 2);
            assertThat(store.recorded).extracting(TrapHit::trap).containsExactly("trap1@example.com", "trap2@example.com");
            await(() -> spamtrap.spoolDepth() == 0 && lines(spool) == 0);
        }
    }

    /**
     * The SMTP hook lists the client at once and hands the hit to the recorder only after its reply is written (a task on
     * the connection's event loop): until then nothing is queued, so no other thread is woken before the reply.
     */
    @Test
    void aHitListsItsClientAtOnceAndReachesTheRecorderThroughTheHandOver() throws Exception {
        FakeStore store = new FakeStore();
        try (Spamtrap spamtrap = Spamtrap.startWith(config(), Clock.systemUTC(), store, store)) {
            List<Runnable> afterReply = new CopyOnWriteArrayList<>();
            spamtrap.recordHit(hit("192.0.2.20", 1), afterReply::add);
            assertThat(spamtrap.activeListing("192.0.2.20")).as("listed locally before the hand-over").isPresent();
            Thread.sleep(200);
            assertThat(spamtrap.spoolDepth()).as("nothing queued before the hand-over").isZero();
            assertThat(afterReply).hasSize(1);
            afterReply.forEach(Runnable::run);
            await(() -> lines(dir.resolve("spool/hits.spool")) == 1);
            assertThat(spamtrap.activeListing("192.0.2.20")).isPresent();
        }
    }

    @Test
    void aReplayedBatchRecordsEachClientsHitsTogether() throws Exception {
        FakeStore store = new FakeStore();
        try (Spamtrap spamtrap = Spamtrap.startWith(config(), Clock.systemUTC(), store, store)) {
            for (int i = 0; i < 6; i++) {
                spamtrap.recordHit(hit(i % 2 == 0 ? "192.0.2.10" : "192.0.2.11", i));
            }
            await(() -> lines(dir.resolve("spool/hits.spool")) == 6);
            store.up.set(true);
            await(() -> store.recorded.size() == 6);
            assertThat(store.groups.stream().mapToInt(List::size).sum()).isEqualTo(6);
            for (List<TrapHit> group : store.groups) {
                java.util.Set<String> clients = new java.util.HashSet<>();
                group.forEach(h -> clients.add(h.key()));
                // a client's hits are never split across groups
                for (String client : clients) {
                    assertThat(group.stream().filter(h -> h.key().equals(client)).count()).isEqualTo(3);
                }
            }
            await(() -> spamtrap.spoolDepth() == 0);
        }
    }

    @Test
    void spooledHitsSurviveARestart() throws Exception {
        FakeStore store = new FakeStore();
        SpamtrapConfig config = config();
        try (Spamtrap spamtrap = Spamtrap.startWith(config, Clock.systemUTC(), store, store)) {
            spamtrap.recordHit(hit("192.0.2.7", 7));
            await(() -> lines(dir.resolve("spool/hits.spool")) == 1);
        }
        try (Spamtrap restarted = Spamtrap.startWith(config, Clock.systemUTC(), store, store)) {
            // still down: the spooled hit lists the client locally after the restart
            assertThat(restarted.activeListing("192.0.2.7")).isPresent();
            store.up.set(true);
            await(() -> store.recorded.size() == 1);
            assertThat(store.recorded.get(0).key()).isEqualTo("192.0.2.7");
        }
    }

    @Test
    void twoProcessesCannotShareOneSpool() throws Exception {
        FakeStore store = new FakeStore();
        SpamtrapConfig config = config();
        try (Spamtrap first = Spamtrap.startWith(config, Clock.systemUTC(), store, store)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Spamtrap.startWith(config, Clock.systemUTC(), store, store))
                .isInstanceOf(dev.spamtrap.core.config.ConfigException.class)
                .hasMessageContaining("spool.directory").hasMessageContaining("in use");
        }
    }

    private static long lines(Path p) {
        try {
            return Files.readAllLines(p).stream().filter(l -> !l.isBlank()).count();
        } catch (Exception e) {
            return -1;
        }
    }

    /**
     * recordHit runs on the Netty event loop: it must not wait for the view's lock (held while its tables grow or are
     * purged) nor for anything else. Here another thread holds that lock for 2 s; the hit is taken at once and its client
     * refused at once.
     */
    @Test
    void recordHitNeverWaitsForTheViewsLock() throws Exception {
        FakeStore store = new FakeStore();
        try (Spamtrap spamtrap = Spamtrap.startWith(config(), Clock.systemUTC(), store, store)) {
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
            Thread holder = new Thread(() -> {
                synchronized (spamtrap.view()) {
                    held.countDown();
                    try {
                        Thread.sleep(2000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            holder.start();
            held.await();
            long t0 = System.nanoTime();
            spamtrap.recordHit(hit("192.0.2.99", 1));
            boolean refused = spamtrap.activeListing(java.net.InetAddress.getByName("192.0.2.99")).isPresent();
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertThat(millis).as("recordHit and the lookup, while the view's lock is held").isLessThan(500);
            assertThat(refused).isTrue();
            holder.join();
        }
    }
}
