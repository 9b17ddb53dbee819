package dev.spamtrap.core.runtime;

import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderView;
import dev.spamtrap.core.store.Change;
import dev.spamtrap.core.store.ClientHistory;
import dev.spamtrap.core.store.OffenderStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps this node's view in step with the store, at a cost proportional to changes, not to the table:
 * <ul>
 * <li>at start (and every {@code sync.fullInterval} as a safety net) one paged read of the offenders table
 *     builds a fresh view, into which this node's unconfirmed hits are put again;</li>
 * <li>every {@code sync.interval} (1 s) the change feed is read from the last successful read minus a
 *     {@link #LOOKBACK} (to absorb clock skew between nodes and late writes); entries already applied are
 *     recognised by their time UUID and skipped;</li>
 * <li>the small trap and allowlist tables are re-read when the feed says they changed, and every
 *     {@code refresh.interval} in case someone wrote them with plain CQL.</li>
 * </ul>
 * Runs on one thread ({@code spamtrap-sync}); a failure keeps the current view and is retried next tick.
 */
final class ChangeFeedSync {
    private static final Logger LOGGER = LoggerFactory.getLogger(ChangeFeedSync.class);
    static final Duration LOOKBACK = Duration.ofSeconds(5);
    /** Beyond this gap the feed is not replayed: a full load is cheaper and surely complete. */
    static final Duration MAX_FEED_GAP = Duration.ofMinutes(10);

    /** Swaps the view the facade reads; given the fresh view, returns nothing. */
    interface ViewHolder {
        OffenderView current();

        OffenderView fresh();

        void install(OffenderView view);

        /** This node's hits the store has not confirmed yet (key to expiry). */
        Map<String, Instant> unconfirmed();
    }

    private final OffenderStore store;
    private final StoreLink link;
    private final Lists lists;
    private final FileReloader files;
    private final ViewHolder views;
    private final Listeners listeners;
    private final Clock clock;
    private final String nodeName;
    private final Duration fullInterval;
    private final Duration listsInterval;
    private final Duration wait;
    private final Map<UUID, Long> seen = new LinkedHashMap<>();
    private final AtomicLong rowsRead = new AtomicLong();
    private volatile long lastSyncMillis;
    private Instant position;
    private long lastFullMillis;
    private long lastListsMillis;
    private boolean listsDirty = true;
    private volatile ClientHistory history;
    private volatile boolean scanning;
    private long scanFailedMillis;
    private long lastPurgeMillis;

    ChangeFeedSync(OffenderStore store, StoreLink link, Lists lists, FileReloader files, ViewHolder views, Listeners listeners,
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

    /** Tells {@code history} every listing seen and fills it from the hit table once after start. */
    void clientHistory(ClientHistory history) {
        this.history = history;
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
            if (position == null || now - lastFullMillis >= fullInterval.toMillis()
                || Duration.between(position, clock.instant()).compareTo(MAX_FEED_GAP) > 0) {
                fullLoad();
            }
            readFeed();
            keepHistory(now);
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
        Instant startedAt = clock.instant();
        OffenderView fresh = views.fresh();
        // Streamed page by page into the packed view: no list of a million records on the heap.
        ClientHistory h = history;
        long rows = store.forEachActive(o -> {
            fresh.put(o);
            if (h != null) {
                h.remembered(o.ip(), o.expiresAt());
            }
        }).toCompletableFuture().get(wait.toMillis() * 20, TimeUnit.MILLISECONDS);
        rowsRead.addAndGet(rows);
        for (Map.Entry<String, Instant> e : views.unconfirmed().entrySet()) {
            fresh.put(e.getKey(), e.getValue());
        }
        views.install(fresh);
        // Changes made while the table was read are replayed from here.
        position = startedAt;
        lastFullMillis = clock.millis();
        LOGGER.info("Spamtrap view loaded: {} rows read, {} active offenders ({} bytes)", rows, fresh.size(), fresh.bytes());
    }

    private void readFeed() throws Exception {
        Instant startedAt = clock.instant();
        List<Change> changes = store.changesSince(position.minus(LOOKBACK)).toCompletableFuture().get(wait.toMillis(), TimeUnit.MILLISECONDS);
        rowsRead.addAndGet(changes.size());
        for (Change c : changes) {
            if (seen.containsKey(c.id())) {
                continue;
            }
            seen.put(c.id(), clock.millis());
            apply(c);
        }
        position = startedAt;
        long horizon = clock.millis() - LOOKBACK.toMillis() * 4;
        for (Iterator<Long> it = seen.values().iterator(); it.hasNext(); ) {
            if (it.next() < horizon) {
                it.remove();
            } else {
                break;
            }
        }
    }

    private void apply(Change c) {
        OffenderView view = views.current();
        switch (c.kind()) {
            case Change.LISTED:
                if (c.key() == null || c.expiresAt() == null) {
                    return;
                }
                boolean longer = view.put(c.key(), c.expiresAt());
                if (!nodeName.equals(c.node())) {
                    ClientHistory h = history;
                    if (h != null) {
                        h.listedElsewhere(c.key(), c.expiresAt());
                    }
                    if (longer) {
                        listeners.recorded(new Offender(c.key(), null, null, 0, null, null, null, c.node(), c.expiresAt()));
                    }
                }
                break;
            case Change.REMOVED:
                if (c.key() == null) {
                    return;
                }
                view.remove(c.key());
                views.unconfirmed().remove(c.key());
                LOGGER.info("Offender {} removed (by {})", c.key(), c.node());
                listeners.removed(c.key());
                break;
            case Change.TRAPS:
            case Change.ALLOWLIST:
                listsDirty = true;
                break;
            default:
                LOGGER.debug("Unknown change kind '{}' ignored", c.kind());
        }
    }

    /**
     * Sweeps the client history, and after start fills it from the hit table's keys (in the background: the feed keeps
     * being read meanwhile); a failed scan is tried again a minute later.
     */
    private void keepHistory(long now) {
        ClientHistory h = history;
        if (h == null) {
            return;
        }
        boolean purge = now - lastPurgeMillis >= Duration.ofMinutes(10).toMillis();
        if (purge) {
            lastPurgeMillis = now;
        }
        h.sweep(purge);
        if (h.isComplete() || scanning || now - scanFailedMillis < Duration.ofMinutes(1).toMillis()) {
            return;
        }
        scanning = true;
        long started = clock.millis();
        store.forEachClientWithHits(h::hasHits).whenComplete((keys, e) -> {
            scanning = false;
            if (e != null) {
                scanFailedMillis = clock.millis();
                LOGGER.warn("Spamtrap could not list the clients with hits ({}); new clients are read back until it can", StoreLink.rootMessage(e));
                return;
            }
            rowsRead.addAndGet(keys);
            h.complete();
            LOGGER.info("Spamtrap client history ready: {} clients with hits ({} known in all, {} bytes) in {} ms", keys, h.size(), h.bytes(),
                clock.millis() - started);
        });
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
