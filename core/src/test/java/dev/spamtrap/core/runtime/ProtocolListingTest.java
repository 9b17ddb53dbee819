package dev.spamtrap.core.runtime;

import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.offender.Cause;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.store.Change;
import dev.spamtrap.core.store.FeedSource;
import dev.spamtrap.core.store.QuietStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.spamtrap.core.Eventually.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A protocol sensor's listing: in the view at once with its cause and protocol.lifetime, in the store, never to the firewall's listeners as trap class. */
class ProtocolListingTest {
    @TempDir
    Path dir;

    static final class Store extends QuietStore {
        final List<String> protocolListings = new CopyOnWriteArrayList<>();
        final List<String> passes = new CopyOnWriteArrayList<>();
        volatile List<Change> feed = List.of();

        @Override
        public CompletionStage<List<Offender>> recordAll(List<dev.spamtrap.core.offender.TrapHit> hits) {
            return defaultRecordAll(hits);
        }

        @Override
        public CompletionStage<Offender> record(dev.spamtrap.core.offender.TrapHit hit) {
            return CompletableFuture.completedFuture(new Offender(hit.key(), hit.at(), hit.at(), 1, hit.trap(), null, null, hit.node(),
                hit.at().plusSeconds(86_400)));
        }

        @Override
        public CompletionStage<Optional<Offender>> listForProtocol(String key, Instant until, Cause cause, String evidence) {
            protocolListings.add(key + " " + cause.label() + " " + evidence);
            return CompletableFuture.completedFuture(Optional.empty());
        }

        @Override
        public CompletionStage<Void> rememberPass(String key, Instant until) {
            passes.add(key);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<List<FeedSource>> feedSources() {
            return CompletableFuture.completedFuture(feed.isEmpty() ? List.of() : List.of(feed.get(0).source()));
        }

        @Override
        public CompletionStage<Long> feedHead(FeedSource source) {
            return CompletableFuture.completedFuture(0L);
        }

        @Override
        public CompletionStage<List<Change>> changesAfter(FeedSource source, long seq) {
            List<Change> after = new java.util.ArrayList<>();
            for (Change c : feed) {
                if (c.seq() > seq) {
                    after.add(c);
                }
            }
            return CompletableFuture.completedFuture(after);
        }
    }

    private SpamtrapConfig config() throws Exception {
        Path p = dir.resolve("conf/spamtrap.properties");
        Files.createDirectories(p.getParent());
        Files.writeString(p, "node.name=a\nprotocol.lifetime=2h\nsync.interval=100ms\nstartup.timeout=500ms\nspool.directory=../spool\n");
        return SpamtrapConfig.load(p);
    }

    @Test
    void observeModeForTrapsListsAsUsualButActsOnNothing() throws Exception {
        Path p = dir.resolve("conf/spamtrap.properties");
        Files.createDirectories(p.getParent());
        Files.writeString(p, "node.name=a\nobserve.traps=true\nsync.interval=100ms\nstartup.timeout=500ms\nspool.directory=../spool\n");
        Store store = new Store();
        List<Offender> told = new CopyOnWriteArrayList<>();
        try (Spamtrap spamtrap = Spamtrap.startWith(SpamtrapConfig.load(p), Clock.systemUTC(), store, AlwaysConnected.CONNECTOR)) {
            spamtrap.addListener(told::add);
            spamtrap.recordHit(new dev.spamtrap.core.offender.TrapHit("192.0.2.50", Instant.now(), "t@example.com", "h", "m@x.y", "a"));
            // listed (so switching observe off acts on it at once), but only observed: reported, never refused
            dev.spamtrap.core.offender.ActiveListing o = spamtrap.activeListing("192.0.2.50").get();
            assertThat(o.cause()).isEqualTo(Cause.TRAP.observed());
            await(() -> !told.isEmpty());
            assertThat(told).extracting(Offender::cause).as("the firewall client is told an observed listing: it sends nothing")
                .containsOnly(Cause.TRAP.observed());
            // a protocol sensor's listing keeps its own mode
            spamtrap.recordProtocol(InetAddress.getByName("192.0.2.51"), Cause.protocol("http"), "GET");
            await(() -> store.protocolListings.size() == 1);
            assertThat(spamtrap.activeListing("192.0.2.51").get().cause()).isEqualTo(Cause.protocol("http"));
            assertThat(spamtrap.actedCause(Cause.MANUAL)).isEqualTo(Cause.MANUAL.observed());
        }
    }

    @Test
    void aSensorsListingIsWeakShortAndStoredAndATrapHitMakesItATrapListing() throws Exception {
        Store store = new Store();
        List<Offender> told = new CopyOnWriteArrayList<>();
        try (Spamtrap spamtrap = Spamtrap.startWith(config(), Clock.systemUTC(), store, AlwaysConnected.CONNECTOR)) {
            spamtrap.addListener(told::add);
            InetAddress client = InetAddress.getByName("192.0.2.44");
            spamtrap.recordProtocol(client, Cause.protocol("pregreet"), "EHLO bot");
            await(() -> store.protocolListings.size() == 1);
            assertThat(store.protocolListings).containsExactly("192.0.2.44 protocol:pregreet EHLO bot");
            dev.spamtrap.core.offender.ActiveListing o = spamtrap.activeListing(client).get();
            assertThat(o.cause()).isEqualTo(Cause.protocol("pregreet"));
            assertThat(Duration.between(o.since(), o.until())).isEqualTo(Duration.ofHours(2));
            assertThat(told).as("nothing for the firewall agent").isEmpty();
            assertThatThrownBy(() -> spamtrap.recordProtocol(client, Cause.TRAP, "x")).isInstanceOf(IllegalArgumentException.class);

            // a pass is remembered here at once, and stored for the other nodes
            InetAddress waited = InetAddress.getByName("192.0.2.45");
            assertThat(spamtrap.passedPregreet(waited)).isFalse();
            spamtrap.rememberPregreetPass(waited, Duration.ofHours(24));
            assertThat(spamtrap.passedPregreet(waited)).isTrue();
            await(() -> store.passes.contains("192.0.2.45"));

            // another node's pass and another node's protocol listing arrive on the feed with their cause
            FeedSource b = new FeedSource("b", "epoch-1");
            Instant until = Instant.now().plusSeconds(3600);
            store.feed = List.of(new Change(b, 1, Change.PASSED, "192.0.2.46", until, 0),
                new Change(b, 2, Change.LISTED, "192.0.2.47", until, 0, Cause.protocol("http")));
            InetAddress other = InetAddress.getByName("192.0.2.46");
            await(() -> spamtrap.passedPregreet(other));
            await(() -> spamtrap.activeListing("192.0.2.47").isPresent());
            assertThat(spamtrap.activeListing("192.0.2.47").get().cause()).isEqualTo(Cause.protocol("http"));
            assertThat(told).extracting(Offender::cause).containsExactly(Cause.protocol("http"));
        }
    }
}
