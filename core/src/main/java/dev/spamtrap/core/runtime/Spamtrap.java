package dev.spamtrap.core.runtime;

import dev.spamtrap.core.config.ConfigException;
import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.firewall.FirewallClient;
import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderView;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.store.CassandraOffenderStore;
import dev.spamtrap.core.store.HitSpool;
import dev.spamtrap.core.store.OffenderStore;
import dev.spamtrap.core.trap.TrapEntry;
import dev.spamtrap.core.trap.TrapList;
import dev.spamtrap.core.trap.TrapListParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One node's spamtrap: the trap list, the allowlist, the local offender view and the path that writes
 * hits to the shared store. The query methods are lock-free reads of immutable snapshots and are safe on
 * a Netty event loop. Everything that touches Cassandra or the disk runs on this object's own scheduler
 * thread ("spamtrap-store"), which is the only thread ever allowed to wait.
 *
 * <p>Every hit is first appended to the on-disk spool, then drained to the store in order; a store that
 * is down only delays the drain. The local view is updated at once, so the offender is refused here even
 * before Cassandra has the row.
 */
public final class Spamtrap implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(Spamtrap.class);

    private final SpamtrapConfig config;
    private final Clock clock;
    private final OffenderStore store;
    private final Connector connector;
    private final OffenderView view;
    private final HitSpool spool;
    private final ScheduledExecutorService scheduler;
    private final List<OffenderListener> listeners = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closeables = new CopyOnWriteArrayList<>();
    private volatile FirewallClient firewall;

    private volatile TrapList fileTraps;
    private volatile TrapList storeTraps = TrapList.EMPTY;
    private volatile TrapList traps;
    private volatile Allowlist fileAllowlist;
    private volatile Allowlist storeAllowlist = Allowlist.EMPTY;
    private volatile Allowlist allowlist;
    private FileTime trapsStamp;
    private FileTime allowlistStamp;
    private boolean storeWasDown;

    /** Connects a store, or says why not; called on the scheduler thread only. */
    public interface Connector {
        boolean isConnected();

        void connect();
    }

    Spamtrap(SpamtrapConfig config, Clock clock, OffenderStore store, Connector connector) {
        this.config = config;
        this.clock = clock;
        this.store = store;
        this.connector = connector;
        this.view = new OffenderView(clock, config.offenderKeys());
        this.spool = new HitSpool(config.spoolDirectory());
        this.fileTraps = config.trapsFile().map(TrapListParser::parse).orElse(TrapList.EMPTY);
        this.fileAllowlist = config.allowlistFile().map(Allowlist::parse).orElse(Allowlist.EMPTY);
        this.trapsStamp = config.trapsFile().map(Spamtrap::stamp).orElse(null);
        this.allowlistStamp = config.allowlistFile().map(Spamtrap::stamp).orElse(null);
        this.traps = fileTraps;
        this.allowlist = fileAllowlist;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "spamtrap-store");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Parses the files (failing at once on a bad line), then connects and loads the offender view,
     * waiting at most {@code startup.timeout}. If Cassandra is not there yet, start goes on: mail flows,
     * hits are spooled, and the connection is retried every {@code retry.interval}.
     */
    public static Spamtrap start(SpamtrapConfig config, Clock clock) {
        CassandraOffenderStore store = new CassandraOffenderStore(config.cassandra(), config.policy(), clock);
        Spamtrap spamtrap = new Spamtrap(config, clock, store, new Connector() {
            @Override
            public boolean isConnected() {
                return store.isConnected();
            }

            @Override
            public void connect() {
                store.connect();
            }
        });
        if (config.firewallAgent().isPresent()) {
            // Offenders this node records are sent to the firewall agent; the client never blocks the caller.
            FirewallClient firewall = FirewallClient.fromConfig(config);
            spamtrap.addListener(firewall);
            spamtrap.closeOnShutdown(firewall);
            spamtrap.firewall = firewall;
        }
        spamtrap.begin();
        return spamtrap;
    }

    static Spamtrap startWith(SpamtrapConfig config, Clock clock, OffenderStore store, Connector connector) {
        Spamtrap spamtrap = new Spamtrap(config, clock, store, connector);
        spamtrap.begin();
        return spamtrap;
    }

    private void begin() {
        LOGGER.info("Spamtrap node '{}' starting: {} trap entries from file, {} allowlisted ranges from file, offender lifetime {} (max {})",
            config.nodeName(), fileTraps.size(), fileAllowlist.ranges().size(), config.policy().lifetime(), config.policy().maxLifetime());
        var first = scheduler.submit(() -> {
            maintain();
            return null;
        });
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
        long refresh = config.refreshInterval().toMillis();
        long retry = config.retryInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::refreshSafely, refresh, refresh, TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(this::drainSafely, retry, retry, TimeUnit.MILLISECONDS);
    }

    // ---- queries: lock-free, safe on an SMTP event loop ----

    public Optional<TrapEntry> trapFor(String address) {
        return traps.match(address);
    }

    public boolean isAllowlisted(InetAddress address) {
        return allowlist.contains(address);
    }

    public Optional<Offender> activeOffender(InetAddress address) {
        return view.active(address);
    }

    /** How this node names the client in its offender records (an IPv4 address, an IPv6 /64 by default). */
    public String offenderKey(InetAddress address) {
        return config.offenderKeys().keyOf(address);
    }

    public Optional<Offender> activeOffender(String ip) {
        return view.active(ip);
    }

    public SpamtrapConfig config() {
        return config;
    }

    public Clock clock() {
        return clock;
    }

    /** The firewall agent client, when {@code firewall.agent} is configured (its counters feed the metrics). */
    public Optional<FirewallClient> firewall() {
        return Optional.ofNullable(firewall);
    }

    public void addListener(OffenderListener listener) {
        listeners.add(listener);
    }

    public void removeListener(OffenderListener listener) {
        listeners.remove(listener);
    }

    /** Closed after the scheduler stops, e.g. the firewall client. */
    public void closeOnShutdown(AutoCloseable resource) {
        closeables.add(resource);
    }

    /** Records a hit without waiting: the local view changes now, the store write happens on the scheduler. */
    public void recordHit(TrapHit hit) {
        view.putPending(config.policy().apply(hit, 0, null));
        LOGGER.info("Spamtrap hit: client {} sent to trap <{}> (HELO '{}', MAIL FROM <{}>)", hit.ip(), hit.trap(), hit.helo(), hit.mailFrom());
        scheduler.execute(() -> {
            spool.append(hit);
            drainSafely();
        });
    }

    // ---- scheduler thread only ----

    private void maintain() {
        drainSafely();
        refreshSafely();
    }

    private boolean ensureConnected() {
        if (connector.isConnected()) {
            return true;
        }
        try {
            connector.connect();
            if (storeWasDown) {
                LOGGER.warn("Spamtrap store is reachable again");
            }
            storeWasDown = false;
            return true;
        } catch (RuntimeException e) {
            if (!storeWasDown) {
                LOGGER.error("Spamtrap store unreachable ({}); mail keeps flowing, hits are kept in {} and replayed", e.getMessage(), spool.file());
            }
            storeWasDown = true;
            return false;
        }
    }

    private void drainSafely() {
        try {
            drain();
        } catch (RuntimeException e) {
            LOGGER.error("Spamtrap spool drain failed", e);
        }
    }

    private void drain() {
        List<TrapHit> pending = spool.readAll();
        if (pending.isEmpty() || !ensureConnected()) {
            return;
        }
        int done = 0;
        for (TrapHit hit : pending) {
            try {
                Offender recorded = store.record(hit).toCompletableFuture().get(storeWait().toMillis(), TimeUnit.MILLISECONDS);
                view.putConfirmed(recorded);
                done++;
                for (OffenderListener l : listeners) {
                    try {
                        l.offenderRecorded(recorded);
                    } catch (RuntimeException e) {
                        LOGGER.error("Offender listener {} failed", l, e);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException | TimeoutException e) {
                if (!storeWasDown) {
                    LOGGER.error("Spamtrap store write failed ({}); {} hit(s) kept in {} for replay", rootMessage(e), pending.size() - done, spool.file());
                }
                storeWasDown = true;
                break;
            }
        }
        if (done > 0) {
            spool.replaceWith(new ArrayList<>(pending.subList(done, pending.size())));
            if (done == pending.size() && storeWasDown) {
                storeWasDown = false;
                LOGGER.warn("Spamtrap store is reachable again; spooled hits replayed");
            }
        }
    }

    private Duration storeWait() {
        return config.cassandra().requestTimeout().multipliedBy(3);
    }

    private void refreshSafely() {
        try {
            refresh();
        } catch (RuntimeException e) {
            LOGGER.error("Spamtrap refresh failed", e);
        }
    }

    private void refresh() {
        reloadFiles();
        if (!ensureConnected()) {
            return;
        }
        try {
            long wait = storeWait().toMillis();
            List<Offender> active = store.loadActive().toCompletableFuture().get(wait, TimeUnit.MILLISECONDS);
            view.replaceConfirmed(active);
            storeTraps = parseStoreTraps(store.loadTrapEntries().toCompletableFuture().get(wait, TimeUnit.MILLISECONDS));
            storeAllowlist = parseStoreAllowlist(store.loadAllowlistEntries().toCompletableFuture().get(wait, TimeUnit.MILLISECONDS));
            traps = TrapList.merge(fileTraps, storeTraps);
            allowlist = Allowlist.merge(fileAllowlist, storeAllowlist);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOGGER.warn("Spamtrap refresh from Cassandra failed ({}); keeping the current view", rootMessage(e));
        }
    }

    private void reloadFiles() {
        if (config.trapsFile().isPresent()) {
            Path f = config.trapsFile().get();
            FileTime now = stamp(f);
            if (now != null && !now.equals(trapsStamp)) {
                trapsStamp = now;
                try {
                    fileTraps = TrapListParser.parse(f);
                    traps = TrapList.merge(fileTraps, storeTraps);
                    LOGGER.info("Trap list {} reloaded: {} entries", f, fileTraps.size());
                } catch (ConfigException e) {
                    LOGGER.error("Trap list not reloaded, keeping the previous one: {}", e.getMessage());
                }
            }
        }
        if (config.allowlistFile().isPresent()) {
            Path f = config.allowlistFile().get();
            FileTime now = stamp(f);
            if (now != null && !now.equals(allowlistStamp)) {
                allowlistStamp = now;
                try {
                    fileAllowlist = Allowlist.parse(f);
                    allowlist = Allowlist.merge(fileAllowlist, storeAllowlist);
                    LOGGER.info("Allowlist {} reloaded: {} ranges", f, fileAllowlist.ranges().size());
                } catch (ConfigException e) {
                    LOGGER.error("Allowlist not reloaded, keeping the previous one: {}", e.getMessage());
                }
            }
        }
    }

    private static TrapList parseStoreTraps(List<String> raw) {
        List<TrapEntry> entries = new ArrayList<>();
        for (String r : raw) {
            try {
                entries.add(TrapEntry.parse(r));
            } catch (IllegalArgumentException e) {
                LOGGER.error("Cassandra table traps: entry skipped: {}", e.getMessage());
            }
        }
        return new TrapList(entries);
    }

    private static Allowlist parseStoreAllowlist(List<String> raw) {
        List<CidrRange> ranges = new ArrayList<>();
        for (String r : raw) {
            try {
                ranges.add(CidrRange.parse(r));
            } catch (IllegalArgumentException e) {
                LOGGER.error("Cassandra table allowlist: entry skipped: {}", e.getMessage());
            }
        }
        return new Allowlist(ranges);
    }

    private static FileTime stamp(Path f) {
        try {
            return Files.getLastModifiedTime(f);
        } catch (IOException e) {
            return null;
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.close();
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception e) {
                LOGGER.warn("Closing {} failed", c, e);
            }
        }
    }
}
