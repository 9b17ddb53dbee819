package dev.spamtrap.core.runtime;

import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.core.admin.SpamtrapStatus;
import dev.spamtrap.core.config.ConfigException;
import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.firewall.FirewallClient;
import dev.spamtrap.core.offender.ActiveListing;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderListener;
import dev.spamtrap.core.offender.OffenderView;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.store.CassandraOffenderStore;
import dev.spamtrap.core.store.HitSpool;
import dev.spamtrap.core.store.OffenderStore;
import dev.spamtrap.core.trap.TrapEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One node's spamtrap, as the SMTP hooks see it, built once from {@code spamtrap.properties} by {@link #start}: the
 * lists, the store and the firewall client first, then the runtime over them; nothing is set afterwards.
 * <ul>
 * <li>{@link OffenderView}: the compact connect-time view (lock-free reads, safe on a Netty event loop);</li>
 * <li>{@link SpoolReplay} + {@link HitSpool}: hits made durable (group-committed fsync) and replayed to the store in batches;</li>
 * <li>{@link ChangeFeedSync}: other nodes' hits, removals and trap/allowlist changes, from the change feed;</li>
 * <li>{@link FileReloader}: traps.txt and allowlist.txt;</li>
 * <li>{@link StoreAdmin}: what WebAdmin reads and changes ({@link #admin()}).</li>
 * </ul>
 * The query methods never block; everything that touches Cassandra or the disk runs on those parts' own threads.
 */
public final class Spamtrap implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(Spamtrap.class);

    private final SpamtrapConfig config;
    private final Clock clock;
    private final OffenderStore store;
    private final StoreLink link;
    private final Listeners listeners;
    private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();
    private final Optional<FirewallClient> firewall;
    private final TrapsAndAllowlist lists;
    private final SparedKeys spared;
    private final FileReloader files;
    private final HitSpool spool;
    private final SpoolReplay replay;
    private final ChangeFeedSync sync;
    /**
     * This node's hits not yet confirmed by the store, per offender key: lists their clients at once (lookups read it
     * lock-free; recordHit never touches the view, whose tables rehash under a lock). An entry goes when its last hit
     * is confirmed; the confirmed listing then goes into the view.
     */
    private final Map<String, Pending> unconfirmed = new ConcurrentHashMap<>();
    /** Forgive generations this node knows of (keys forgiven within the history kept), stamped on their new hits. */
    private final Map<String, Integer> generations = new ConcurrentHashMap<>();
    /** Clients that passed the pregreet test (offender key to the pass's end, epoch millis), this node's and the feed's. */
    private final Map<String, Long> pregreetPasses = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler;
    private volatile OffenderView view;
    private final SpamtrapAdmin admin;
    private final dev.spamtrap.core.blocklist.Blocklists blocklists;

    /** A key's unconfirmed hits: how many, and the latest end they list it until locally. */
    static final class Pending {
        final Instant until;
        final int hits;

        Pending(Instant until, int hits) {
            this.until = until;
            this.hits = hits;
        }

        Pending plus(Pending other) {
            return new Pending(until.isAfter(other.until) ? until : other.until, hits + other.hits);
        }
    }

    /** Connects a store, or says why not; called on background threads only. */
    public interface Connector {
        boolean isConnected();

        void connect();
    }

    private Spamtrap(SpamtrapConfig config, Clock clock, OffenderStore store, Connector connector, TrapsAndAllowlist lists,
                     SparedKeys spared, Optional<FirewallClient> firewall) {
        this.config = config;
        this.clock = clock;
        this.store = store;
        this.link = new StoreLink(connector);
        this.listeners = new Listeners(config.observeTraps());
        this.view = new OffenderView(clock, config.offenderKeys());
        this.lists = lists;
        this.spared = spared;
        this.firewall = firewall;
        firewall.ifPresent(f -> {
            listeners.add(f);
            closeables.add(f);
        });
        this.files = new FileReloader(config, lists);
        try {
            this.spool = new HitSpool(config.spoolDirectory(), config.spoolMaxBytes());
        } catch (HitSpool.SpoolInUseException e) {
            throw ConfigException.atKey(config.source().toString(), "spool.directory", e.getMessage());
        }
        Duration storeWait = config.cassandra().requestTimeout().multipliedBy(3);
        this.replay = new SpoolReplay(spool, store, link, listeners, this::confirmed, lists, config.spoolBatchSize(), config.retryInterval(), storeWait);
        this.sync = new ChangeFeedSync(store, link, lists, files, new ChangeFeedSync.ViewHolder() {
            @Override
            public OffenderView current() {
                return view;
            }

            @Override
            public OffenderView fresh() {
                return new OffenderView(clock, config.offenderKeys());
            }

            @Override
            public void install(OffenderView fresh) {
                view = fresh;
            }

            @Override
            public void dropUnconfirmed(String key) {
                unconfirmed.remove(key);
            }

            @Override
            public Map<String, Integer> generations() {
                return generations;
            }

            @Override
            public void passed(String key, Instant until) {
                pregreetPasses.merge(key, until.toEpochMilli(), Math::max);
            }
        }, listeners, clock, config.nodeName(), config.fullSyncInterval(), config.refreshInterval(), storeWait);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "spamtrap-sync");
            t.setDaemon(true);
            return t;
        });
        this.admin = new StoreAdmin(config, clock, store, lists, new StoreAdmin.Node() {
            @Override
            public void listedHere(Offender offender) {
                view.put(offender);
                listeners.recorded(offender);
            }

            @Override
            public void syncSoon() {
                scheduler.execute(Spamtrap.this::tickSafely);
            }

            @Override
            public SpamtrapStatus status() {
                return Spamtrap.this.status();
            }
        });
        this.blocklists = dev.spamtrap.core.blocklist.Blocklists.start(config.blocklists(), clock);
        closeables.add(blocklists);
    }

    /**
     * Parses the files (failing at once on a bad line), locks and loads the spool into the view, then
     * connects and loads the offender view, waiting at most {@code startup.timeout}. If Cassandra is not
     * there yet, start goes on: mail flows, hits are spooled, and the connection is retried.
     */
    public static Spamtrap start(SpamtrapConfig config, Clock clock) {
        TrapsAndAllowlist lists = TrapsAndAllowlist.fromFiles(config);
        SparedKeys spared = new SparedKeys(lists, config.trustedRelays());
        CassandraOffenderStore store = new CassandraOffenderStore(config.cassandra(), config.policy(), clock, config.nodeName(),
            config.prefixEscalation(), lists::overlapsAllowlist);
        // Offenders this node records are sent to the firewall agent; the client never blocks the caller.
        Optional<FirewallClient> firewall = config.firewallAgent().isPresent() ? Optional.of(FirewallClient.fromConfig(config, spared))
            : Optional.empty();
        Spamtrap spamtrap = new Spamtrap(config, clock, store, new Connector() {
            @Override
            public boolean isConnected() {
                return store.isConnected();
            }

            @Override
            public void connect() {
                store.connect();
            }
        }, lists, spared, firewall);
        spamtrap.begin();
        return spamtrap;
    }

    /** A runtime over another store (tests), without a firewall agent. */
    static Spamtrap startWith(SpamtrapConfig config, Clock clock, OffenderStore store, Connector connector) {
        TrapsAndAllowlist lists = TrapsAndAllowlist.fromFiles(config);
        Spamtrap spamtrap = new Spamtrap(config, clock, store, connector, lists, new SparedKeys(lists, config.trustedRelays()), Optional.empty());
        spamtrap.begin();
        return spamtrap;
    }

    private void begin() {
        LOGGER.info("Spamtrap node '{}' starting: {} trap entries from file, {} allowlisted ranges from file, offender lifetime {} (max {})",
            config.nodeName(), lists.fileTraps().size(), lists.fileAllowlist().ranges().size(), config.policy().lifetime(),
            config.policy().maxLifetime());
        loadSpoolIntoView();
        replay.start();
        var first = scheduler.submit(sync::tick);
        try {
            first.get(config.startupTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOGGER.warn("Spamtrap store not ready after {}; continuing, hits are spooled and the offender view loads when Cassandra answers",
                config.startupTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOGGER.warn("Spamtrap store start failed; will retry", e.getCause());
        }
        long every = config.syncInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::tickSafely, every, every, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::purgeExpired, 10, 10, TimeUnit.MINUTES);
    }

    /** Expired view entries, and unconfirmed entries past their end (a hit skipped as poison is never confirmed). */
    private void purgeExpired() {
        view.purgeExpired();
        Instant now = clock.instant();
        unconfirmed.values().removeIf(p -> !p.until.isAfter(now));
        long nowMillis = now.toEpochMilli();
        pregreetPasses.values().removeIf(until -> until <= nowMillis);
    }

    private void tickSafely() {
        try {
            sync.tick();
        } catch (RuntimeException e) {
            LOGGER.error("Spamtrap sync failed", e);
        }
    }

    /** A James restart during a Cassandra outage still refuses this node's offenders: its spooled hits list them. */
    private void loadSpoolIntoView() {
        List<TrapHit> spooled = spool.readAll();
        if (spooled.isEmpty()) {
            return;
        }
        Map<String, List<Instant>> byKey = new HashMap<>();
        for (TrapHit h : spooled) {
            byKey.computeIfAbsent(h.key(), k -> new ArrayList<>()).add(h.at());
        }
        for (Map.Entry<String, List<Instant>> e : byKey.entrySet()) {
            Instant until = config.policy().listedUntil(e.getValue());
            unconfirmed.merge(e.getKey(), new Pending(until, e.getValue().size()), Pending::plus);
        }
        LOGGER.info("Spamtrap spool {}: {} hit(s) of {} client(s) waiting for the store, listed locally", spool.file(), spooled.size(),
            byKey.size());
    }

    // ---- queries: lock-free, safe on an SMTP event loop ----

    public Optional<TrapEntry> trapFor(String address) {
        return lists.traps().match(address);
    }

    public boolean isAllowlisted(InetAddress address) {
        return lists.allowlist().contains(address);
    }

    /**
     * Whether an offender key must never be blocked by the firewall nor exported (see {@link SparedKeys}). Lock-free.
     */
    public boolean isSpared(String offenderKey) {
        return spared.test(offenderKey);
    }

    /**
     * The listing covering the client, if active: the key that matched (the client's own key or a listed prefix), since
     * and until when, and why; the evidence stays in the store (see {@link #admin()}). Without a listing acted on, a
     * client on a loaded list gets one of class {@code list:<name>} ({@link dev.spamtrap.core.blocklist.Blocklists#over}).
     * Lock-free.
     */
    public Optional<ActiveListing> activeListing(InetAddress address) {
        Optional<ActiveListing> listed = view.active(address);
        return blocklists.over(observed(listed.isPresent() || unconfirmed.isEmpty() ? listed : pendingListing(offenderKey(address))), address);
    }

    /** With {@code observe.traps}, a trap-class listing is only observed on this node: reported, never acted on. */
    private Optional<ActiveListing> observed(Optional<ActiveListing> listing) {
        if (!config.observeTraps() || listing.isEmpty()) {
            return listing;
        }
        dev.spamtrap.core.offender.Cause acted = actedCause(listing.get().cause());
        return acted == listing.get().cause() ? listing : Optional.of(listing.get().withCause(acted));
    }

    /** The cause as this node acts on it: observed for a trap-class cause under {@code observe.traps}. */
    public dev.spamtrap.core.offender.Cause actedCause(dev.spamtrap.core.offender.Cause cause) {
        return config.actedCause(cause);
    }

    /** This node's own unconfirmed listing of {@code key}, if still active (lock-free). */
    private Optional<ActiveListing> pendingListing(String key) {
        Pending p = unconfirmed.get(key);
        return p == null || !p.until.isAfter(clock.instant()) ? Optional.empty()
            : Optional.of(new ActiveListing(key, null, p.until, dev.spamtrap.core.offender.Cause.TRAP));
    }

    /** How this node names the client in its offender records (an IPv4 address, an IPv6 /64 by default). */
    public String offenderKey(InetAddress address) {
        return config.offenderKeys().keyOf(address);
    }

    /** The listing stored under exactly this key, if active (as above; loaded lists are not keys). */
    public Optional<ActiveListing> activeListing(String key) {
        Optional<ActiveListing> listed = view.active(key);
        return observed(listed.isPresent() || unconfirmed.isEmpty() ? listed : pendingListing(key));
    }

    public SpamtrapConfig config() {
        return config;
    }

    /** The lists loaded from files or URLs ({@code lists} in spamtrap.properties); see {@link #activeListing(InetAddress)}. */
    public dev.spamtrap.core.blocklist.Blocklists blocklists() {
        return blocklists;
    }

    public Clock clock() {
        return clock;
    }

    /** The firewall agent client, when {@code firewall.agent} is configured (its counters feed the metrics). */
    public Optional<FirewallClient> firewall() {
        return firewall;
    }

    public void addListener(OffenderListener listener) {
        listeners.add(listener);
    }

    public void removeListener(OffenderListener listener) {
        listeners.remove(listener);
    }

    /**
     * Records a hit without waiting: the local view lists the client now; the hit is group-committed to the
     * spool and then stored by the replay's threads.
     */
    public void recordHit(TrapHit hit) {
        recordHit(hit, Runnable::run);
    }

    /**
     * As {@link #recordHit(TrapHit)}, the client listed locally at once, but the hit handed to the replay through
     * {@code handOver}: an SMTP hook passes its connection's event loop, so that the replay's thread is woken only
     * once the reply has been written.
     */
    public void recordHit(TrapHit hit, java.util.concurrent.Executor handOver) {
        // Safe on the event loop: a map merge; the queue add (which wakes the spool thread), the view (whose tables rehash
        // under a lock) and the log line are left to handOver and the replay's threads.
        Integer generation = generations.get(hit.key());
        unconfirmed.merge(hit.key(), new Pending(hit.at().plus(config.policy().lifetime()), 1), Pending::plus);
        TrapHit stamped = generation == null ? hit : hit.withGeneration(generation);
        handOver.execute(() -> replay.submit(stamped));
    }

    /**
     * A protocol sensor caught {@code client}: its key is listed for {@code cause} (class protocol, or observed) for
     * {@code protocol.lifetime}, unless listed longer or for a stronger cause. Never waits: the view and the store are
     * written on the runtime's own thread (the store's row and feed entry tell the other nodes and WebAdmin); nothing is
     * sent to the firewall agent. {@code evidence} is what the client sent, cleaned by the caller.
     */
    public void recordProtocol(InetAddress client, dev.spamtrap.core.offender.Cause cause, String evidence) {
        if (!cause.isWeak()) {
            throw new IllegalArgumentException(cause + " is not a protocol sensor's cause");
        }
        String key = offenderKey(client);
        Instant now = clock.instant();
        Instant until = now.plus(config.protocolLifetime());
        scheduler.execute(() -> {
            view.put(key, until, now, cause);
            store.listForProtocol(key, until, cause, evidence).whenComplete((o, e) -> {
                if (e != null) {
                    LOGGER.warn("Protocol listing of {} ({}) not stored: {}; this node refuses it until {}", key, cause, e.toString(), until);
                }
            });
        });
    }

    /**
     * Whether {@code client} passed the pregreet test within the pass lifetime, here or on another node (lock-free, no
     * round trip).
     */
    public boolean passedPregreet(InetAddress client) {
        Long until = pregreetPasses.get(offenderKey(client));
        return until != null && until > clock.millis();
    }

    /** {@code client} waited for the final greeting: it skips the test for {@code lifetime}, on every node. */
    public void rememberPregreetPass(InetAddress client, Duration lifetime) {
        String key = offenderKey(client);
        Instant until = clock.instant().plus(lifetime);
        pregreetPasses.merge(key, until.toEpochMilli(), Math::max);
        scheduler.execute(() -> store.rememberPass(key, until).whenComplete((x, e) -> {
            if (e != null) {
                LOGGER.debug("Pregreet pass of {} not stored: {}", key, e.toString());
            }
        }));
    }

    /** A hit the store confirmed, with its key's listing after it: into the view; the key's pending entry counted down. */
    private void confirmed(Offender o) {
        if (o.isActiveAt(clock.instant())) {
            view.put(o);
        }
        unconfirmed.computeIfPresent(o.key(), (k, p) -> p.hits <= 1 ? null : new Pending(p.until, p.hits - 1));
    }

    // ---- administration and health (read by the admin routes and metrics) ----

    /** What an administrator can see and change. */
    public SpamtrapAdmin admin() {
        return admin;
    }

    /** This node's health as WebAdmin shows it. */
    public SpamtrapStatus status() {
        // the agent's side as this node's client last saw it; both empty when no agent is configured
        Boolean agentReachable = firewall.map(FirewallClient::agentReachable).orElse(null);
        String breaker = firewall.map(f -> f.agentBreakerOpen() ? "open (the agent refused a block within the last minute)" : "closed")
            .orElse(null);
        return new SpamtrapStatus(config.nodeName(), storeReachable(), spoolDepth(), viewSize(), syncLag().orElse(null), agentReachable, breaker);
    }

    /** Whether the store answered the last call. */
    public boolean storeReachable() {
        return link.reachable();
    }

    /** Hits accepted but not yet confirmed by the store (queued plus on disk). */
    public long spoolDepth() {
        return replay.depth();
    }

    /** Entries in the connect-time view. */
    public long viewSize() {
        return view.size();
    }

    /** Bytes held by the connect-time view's tables. */
    public long viewBytes() {
        return view.bytes();
    }

    /** Time since the last successful sync with the store; empty if none yet. */
    public Optional<Duration> syncLag() {
        long last = sync.lastSyncMillis();
        return last == 0 ? Optional.empty() : Optional.of(Duration.ofMillis(Math.max(0, clock.millis() - last)));
    }

    /** Rows this node's sync has read from Cassandra since start. */
    public long rowsRead() {
        return sync.rowsRead();
    }

    /** Hits this node has stored since start. */
    public long hitsStored() {
        return replay.stored();
    }

    TrapsAndAllowlist lists() {
        return lists;
    }

    OffenderView view() {
        return view;
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        replay.close();
        spool.close();
        try {
            store.close();
        } catch (RuntimeException e) {
            LOGGER.warn("Closing store", e);
        }
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception e) {
                LOGGER.warn("Closing {}", c, e);
            }
        }
    }
}
