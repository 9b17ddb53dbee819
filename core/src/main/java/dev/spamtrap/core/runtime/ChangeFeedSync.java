package dev.spamtrap.core.runtime;

import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderView;
import dev.spamtrap.core.store.Change;
import dev.spamtrap.core.store.FeedSource;
import dev.spamtrap.core.store.OffenderStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps this node's view in step with the store, at a cost proportional to changes, not to the table:
 * <ul>
 * <li>at start (and every {@code sync.fullInterval} as a safety net) one paged read of the listings (one row per
 *     offender key, no evidence) builds a fresh view and the forgive generations this node knows;</li>
 * <li>every {@code sync.interval} (250 ms) each writer's part of the change feed is read after the last sequence number
 *     applied from it; entries are applied in sequence order, and a gap (a later row seen before an earlier one, e.g.
 *     across datacenters) holds that writer back until the row arrives or {@link #GAP_GIVE_UP} passes. No clock is
 *     compared: an entry that lands late is simply read when it lands;</li>
 * <li>the small trap and allowlist tables are re-read when the feed says they changed, and every
 *     {@code refresh.interval} in case someone wrote them with plain CQL.</li>
 * </ul>
 * Runs on one thread ({@code spamtrap-sync}); a failure keeps the current view and is retried next tick.
 */
final class ChangeFeedSync {
    private static final Logger LOGGER = LoggerFactory.getLogger(ChangeFeedSync.class);
    /** A gap in a writer's sequence is waited for this long (by this node's monotonic clock), then stepped over and logged. */
    static final Duration GAP_GIVE_UP = Duration.ofMinutes(2);
    /** A writer no longer registered is still read for this long (late rows), then its progress is kept only. */
    static final Duration SOURCE_LINGER = Duration.ofMinutes(10);
    /** ... and forgotten after the feed's own TTL. */
    static final Duration SOURCE_FORGET = Duration.ofHours(25);
    /** {@code feed_writers} is read at most this often (a writer started since is found within it); known writers every tick. */
    static final Duration WRITERS_EVERY = Duration.ofSeconds(1);
    /** Beyond this gap the feed is not replayed: a full load is cheaper and surely complete. */
    static final Duration MAX_FEED_GAP = Duration.ofMinutes(10);

    /** Swaps the view the facade reads; given the fresh view, returns nothing. */
    interface ViewHolder {
        OffenderView current();

        OffenderView fresh();

        void install(OffenderView view);

        /** Forgets this node's unconfirmed listing of a key that was forgiven. */
        void dropUnconfirmed(String key);

        /** Forgive generations known to this node (keys forgiven within the history kept); shared with the hit path. */
        Map<String, Integer> generations();

        /** A client passed the pregreet test (on any node) and skips it until {@code until}. */
        default void passed(String key, Instant until) {
        }
    }

    private final OffenderStore store;
    private final StoreLink link;
    private final TrapsAndAllowlist lists;
    private final FileReloader files;
    private final ViewHolder views;
    private final Listeners listeners;
    private final Clock clock;
    private final String nodeName;
    private final Duration fullInterval;
    private final Duration listsInterval;
    private final Duration wait;
    /** Per writer: the last sequence number applied, and since when a gap after it has been seen. */
    private static final class Progress {
        long applied;
        long gapSinceNanos = -1;
        long registeredNanos;

        Progress(long applied, long now) {
            this.applied = applied;
            this.registeredNanos = now;
        }
    }

    private final Map<FeedSource, Progress> progress = new HashMap<>();
    private final AtomicLong rowsRead = new AtomicLong();
    private volatile long lastSyncMillis;
    private boolean loaded;
    private long writersReadNanos;
    private long lastFullMillis;
    private long lastListsMillis;
    private boolean listsDirty = true;
    /** Keys whose listing of a forgive generation >= 1 was applied since the last full load: a removal of that generation is older. */
    private final Map<String, Integer> listedGenerations = new HashMap<>();

    ChangeFeedSync(OffenderStore store, StoreLink link, TrapsAndAllowlist lists, FileReloader files, ViewHolder views, Listeners listeners,
                   Clock clock, String nodeName, Duration fullInterval, Duration listsInterval, Duration wait) {
        this.store = store;
        this.link = link;
        this.lists = lists;
        this.files = files;
        this.views = views;
        this.listeners = listeners;
        this.clock = clock;
        this.nodeName = nodeName;
        this.fullInterval = fullInterval;
        this.listsInterval = listsInterval;
        this.wait = wait;
    }

    /** Wall-clock millis of the last successful sync, 0 if none yet. */
    long lastSyncMillis() {
        return lastSyncMillis;
    }

    /** Rows read from Cassandra by this node's sync since start (offenders, feed, traps, allowlist). */
    long rowsRead() {
        return rowsRead.get();
    }

    void tick() {
        try {
            if (files.reload()) {
                // a file and a table changed together are seen together
                listsDirty = true;
            }
        } catch (RuntimeException e) {
            LOGGER.error("Spamtrap file reload failed", e);
        }
        if (!link.ensure()) {
            return;
        }
        try {
            long now = clock.millis();
            if (lastListsMillis == 0) {
                reloadLists(); // first: the recorder replays nothing before it knows the shared allowlist
            }
            if (!loaded || now - lastFullMillis >= fullInterval.toMillis() || now - lastSyncMillis > MAX_FEED_GAP.toMillis()) {
                fullLoad();
            }
            readFeed();
            if (listsDirty || now - lastListsMillis >= listsInterval.toMillis()) {
                reloadLists();
            }
            lastSyncMillis = clock.millis();
            link.up();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            link.failed(StoreLink.rootMessage(e));
            LOGGER.warn("Spamtrap sync failed ({}); keeping the current view", StoreLink.rootMessage(e));
        }
    }

    private void fullLoad() throws Exception {
        // Where each writer's feed stands before the table is read: what follows is applied after the load.
        Map<FeedSource, Long> heads = new HashMap<>();
        for (FeedSource s : get(store.feedSources())) {
            heads.put(s, get(store.feedHead(s)));
        }
        rowsRead.addAndGet(heads.size() * 2L);
        OffenderView fresh = views.fresh();
        // Streamed page by page into the packed view: no list of a million records on the heap.
        Instant now = clock.instant();
        Map<String, Integer> generations = new HashMap<>();
        long rows = store.forEachViewListing(l -> {
            if (l.isActiveAt(now)) {
                fresh.put(l.offender());
            }
            if (l.generation() > 0) {
                generations.put(l.offender().key(), l.generation());
            }
        }).toCompletableFuture().get(wait.toMillis() * 20, TimeUnit.MILLISECONDS);
        // a generation is dropped only with its partition's listing (the store forgets it then too)
        rows += store.forEachPass(views::passed).toCompletableFuture().get(wait.toMillis() * 20, TimeUnit.MILLISECONDS);
        views.generations().keySet().retainAll(generations.keySet());
        generations.forEach((k, g) -> views.generations().merge(k, g, Math::max));
        listedGenerations.clear();
        rowsRead.addAndGet(rows);
        // this node's unconfirmed hits are looked up beside the view (Spamtrap.unconfirmed), never put into it
        views.install(fresh);
        long nanos = System.nanoTime();
        for (Map.Entry<FeedSource, Long> head : heads.entrySet()) {
            Progress p = progress.computeIfAbsent(head.getKey(), k -> new Progress(0, nanos));
            p.applied = Math.max(p.applied, head.getValue());
            p.gapSinceNanos = -1;
        }
        loaded = true;
        lastFullMillis = clock.millis();
        LOGGER.info("Spamtrap view loaded: {} rows read, {} active offenders ({} bytes)", rows, fresh.size(), fresh.bytes());
    }

    private <T> T get(java.util.concurrent.CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void readFeed() throws Exception {
        long nanos = System.nanoTime();
        if (progress.isEmpty() || nanos - writersReadNanos >= WRITERS_EVERY.toNanos()) {
            List<FeedSource> registered = get(store.feedSources());
            writersReadNanos = nanos;
            rowsRead.addAndGet(registered.size());
            for (FeedSource s : registered) {
                // a writer first seen now started after the last full load: all of its entries are new here
                progress.computeIfAbsent(s, k -> new Progress(0, nanos)).registeredNanos = nanos;
            }
        }
        for (Iterator<Map.Entry<FeedSource, Progress>> it = progress.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<FeedSource, Progress> e = it.next();
            long idle = nanos - e.getValue().registeredNanos;
            if (idle > SOURCE_FORGET.toNanos()) {
                it.remove();
            } else if (idle <= SOURCE_LINGER.toNanos() + WRITERS_EVERY.toNanos()) {
                readSource(e.getKey(), e.getValue(), nanos);
            }
        }
    }

    /** Applies a writer's entries after the last one applied, in sequence order, holding back at a gap. */
    private void readSource(FeedSource source, Progress p, long nanos) throws Exception {
        List<Change> changes = get(store.changesAfter(source, p.applied));
        long rows = 0;
        long last = -1;
        int i = 0;
        while (i < changes.size()) {
            long seq = changes.get(i).seq();
            int end = i;
            while (end < changes.size() && changes.get(end).seq() == seq) {
                end++;
            }
            rows++;
            if (seq > p.applied + 1) {
                if (p.gapSinceNanos < 0) {
                    p.gapSinceNanos = nanos;
                }
                if (nanos - p.gapSinceNanos < GAP_GIVE_UP.toNanos()) {
                    break; // wait for the missing rows
                }
                LOGGER.warn("Change feed of {}: rows {}..{} never arrived within {}; stepped over (the next full load covers them)", source,
                    p.applied + 1, seq - 1, GAP_GIVE_UP);
            }
            for (Change c : changes.subList(i, end)) {
                apply(c);
            }
            p.applied = seq;
            p.gapSinceNanos = -1;
            last = seq;
            i = end;
        }
        if (i == changes.size()) {
            p.gapSinceNanos = -1;
        }
        rowsRead.addAndGet(rows);
        if (last >= 0) {
            LOGGER.debug("Change feed of {} applied up to {}", source, last);
        }
    }

    private void apply(Change c) {
        OffenderView view = views.current();
        Map<String, Integer> generations = views.generations();
        switch (c.kind()) {
            case Change.LISTED:
                if (c.key() == null || c.expiresAt() == null) {
                    return;
                }
                if (c.generation() < generations.getOrDefault(c.key(), 0)) {
                    return; // a listing the key's forgive voided, read after it
                }
                if (c.generation() > 0) {
                    generations.merge(c.key(), c.generation(), Math::max);
                    listedGenerations.merge(c.key(), c.generation(), Math::max);
                }
                boolean longer = view.put(c.key(), c.expiresAt(), clock.instant(), c.cause());
                if (!nodeName.equals(c.node()) && longer) {
                    listeners.recorded(new Offender(c.key(), null, null, 0, null, null, null, c.node(), c.expiresAt(), c.cause()));
                }
                break;
            case Change.REMOVED:
                if (c.key() == null) {
                    return;
                }
                generations.merge(c.key(), c.generation(), Math::max);
                if (listedGenerations.getOrDefault(c.key(), 0) >= c.generation() && c.generation() > 0) {
                    return; // a listing made after this forgive was applied first
                }
                view.remove(c.key());
                views.dropUnconfirmed(c.key());
                LOGGER.info("Offender {} removed (by {})", c.key(), c.node());
                listeners.removed(c.key());
                break;
            case "":
                return; // a malformed entry (logged by the store) keeps its place in the sequence only
            case Change.PASSED:
                if (c.key() != null && c.expiresAt() != null) {
                    views.passed(c.key(), c.expiresAt());
                }
                break;
            case Change.TRAPS:
            case Change.ALLOWLIST:
                listsDirty = true;
                break;
            default:
                LOGGER.debug("Unknown change kind '{}' ignored", c.kind());
        }
    }

    private void reloadLists() throws Exception {
        List<String> traps = store.loadTrapEntries().toCompletableFuture().get(wait.toMillis(), TimeUnit.MILLISECONDS);
        List<String> allow = store.loadAllowlistEntries().toCompletableFuture().get(wait.toMillis(), TimeUnit.MILLISECONDS);
        rowsRead.addAndGet(traps.size() + allow.size());
        lists.storeTraps(traps);
        lists.storeAllowlist(allow);
        listsDirty = false;
        lastListsMillis = clock.millis();
    }
}
