package dev.spamtrap.agent;

import dev.spamtrap.agent.apply.AgentStats;
import dev.spamtrap.agent.status.StatusServer;
import dev.spamtrap.agent.safety.NamespaceAddresses;
import dev.spamtrap.agent.apply.Applier;
import dev.spamtrap.agent.apply.RebuildReport;
import dev.spamtrap.agent.apply.ViewFile;
import dev.spamtrap.agent.backend.BackendException;
import dev.spamtrap.agent.backend.CommandRunner;
import dev.spamtrap.agent.backend.DryRunCommandRunner;
import dev.spamtrap.agent.backend.FirewallBackend;
import dev.spamtrap.agent.backend.IpsetBackend;
import dev.spamtrap.agent.backend.NftablesBackend;
import dev.spamtrap.agent.backend.PfBackend;
import dev.spamtrap.agent.backend.ProcessCommandRunner;
import dev.spamtrap.agent.net.Prefix;
import dev.spamtrap.agent.reconcile.ActiveOffenderSource;
import dev.spamtrap.agent.reconcile.CassandraOffenderSource;
import dev.spamtrap.agent.reconcile.Reconciler;
import dev.spamtrap.agent.safety.CircuitBreaker;
import dev.spamtrap.agent.safety.SafetyRails;
import dev.spamtrap.agent.server.CommandProcessor;
import dev.spamtrap.agent.server.CommandServer;
import dev.spamtrap.agent.server.ReplayGuard;
import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.firewall.AgentEndpoint;
import dev.spamtrap.core.firewall.FirewallKey;
import dev.spamtrap.core.firewall.MessageCodec;
import dev.spamtrap.core.config.ListFiles;
import dev.spamtrap.core.net.Allowlist;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** The firewall agent assembled from its configuration: key, backend, safety rails, applier, server, reconciler. */
public final class Agent implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(Agent.class);

    private final AgentConfig config;
    private final FirewallBackend backend;
    private final Applier applier;
    private final CommandServer server;
    private final Optional<Reconciler> reconciler;
    private final SafetyRails rails;
    private final AgentStats stats;
    private final CircuitBreaker breaker;
    private List<SocketAddress> bound = List.of();
    private StatusServer status;
    private NamespaceAddresses addresses;
    private final java.util.concurrent.ScheduledExecutorService refresher = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "agent-addresses");
        t.setDaemon(true);
        return t;
    });
    private CompletableFuture<RebuildReport> startupRebuild = CompletableFuture.completedFuture(null);

    /** Seams for tests and the benchmark; production uses {@link #create(AgentConfig)}. */
    public static final class Builder {
        private final AgentConfig config;
        private CommandRunner runner;
        private ActiveOffenderSource source;
        private boolean sourceSet;
        private Clock clock = Clock.systemUTC();
        private java.util.function.LongSupplier nanoTime = System::nanoTime;
        private List<InetAddress> localAddresses;

        public Builder(AgentConfig config) {
            this.config = config;
        }

        public Builder runner(CommandRunner r) { this.runner = r; return this; }
        /** Replaces the Cassandra source (null: no reconcile). */
        public Builder source(ActiveOffenderSource s) { this.source = s; this.sourceSet = true; return this; }
        public Builder clock(Clock c) { this.clock = c; return this; }
        /** The monotonic clock for every interval (uptime, breaker minute); System::nanoTime unless a test steps it. */
        public Builder nanoTime(java.util.function.LongSupplier n) { this.nanoTime = n; return this; }
        public Builder localAddresses(List<InetAddress> a) { this.localAddresses = a; return this; }

        public Agent build() {
            return new Agent(this);
        }
    }

    public static Agent create(AgentConfig config) {
        return new Builder(config).build();
    }

    private Agent(Builder b) {
        this.config = b.config;
        FirewallKey key = FirewallKey.load(config.keyFile()); // refuses a missing, empty or short key
        warnIfReadableByOthers();
        CommandRunner runner = b.runner != null ? b.runner
            : config.backend() == AgentConfig.BackendKind.LOG ? new DryRunCommandRunner() : new ProcessCommandRunner();
        this.backend = backend(config, runner);
        SafetyRails.Builder rb = new SafetyRails.Builder().minPrefix(config.minPrefix4(), config.minPrefix6());
        if (config.allowlistFile().isPresent()) {
            rb.allowlist(ListFiles.allowlist(config.allowlistFile().get()), config.allowlistFile().get().toString());
        }
        for (Prefix p : config.protect()) {
            rb.protect(p, "protected (key protect in " + config.source() + ")");
        }
        if (config.protectLocalAddresses()) {
            if (b.localAddresses != null) {
                rb.ownAddresses(b.localAddresses);
            } else {
                // read where the rules live (ip netns exec NS nft ...), and re-read every minute
                addresses = new NamespaceAddresses(config.backend() == AgentConfig.BackendKind.IPSET ? config.ipsetCommand() : config.nftCommand());
                try {
                    rb.ownAddresses(addresses.read());
                } catch (IOException e) {
                    throw new IllegalStateException("cannot read this server's addresses in " + addresses.describe() + ": " + e.getMessage(), e);
                }
            }
        }
        this.rails = rb.build();
        this.stats = new AgentStats();
        this.breaker = new CircuitBreaker(config.breakerMaxPerMinute(), b.nanoTime);
        this.applier = new Applier(backend, breaker, b.clock, config.batchSize(), config.maxLifetime().toSeconds(), config.reconcileMaxEntries(), stats,
            // a dry run has no kernel to compare with: its listings come back empty
            config.backend() == AgentConfig.BackendKind.LOG ? java.time.Duration.ZERO : config.driftCheckInterval(),
            // a dry run has no kernel whose content a saved view could stand for
            config.backend() == AgentConfig.BackendKind.LOG ? Optional.empty() : config.stateFile().map(f -> new ViewFile(f, backend.describe())),
            config.stateSaveInterval());
        ReplayGuard guard = new ReplayGuard(b.clock, b.nanoTime, config.maxAge(), 1_000_000);
        CommandProcessor processor = new CommandProcessor(new MessageCodec(key), guard, rails, applier);
        List<AgentEndpoint> endpoints = new ArrayList<>();
        config.listenTcp().ifPresent(endpoints::add);
        config.listenUnix().ifPresent(endpoints::add);
        this.server = new CommandServer(endpoints, processor, config.maxConnections(), config.maxConnectionsPerPeer(), config.idleTimeout(),
            config.unixPermissions());
        ActiveOffenderSource source = b.sourceSet ? b.source : config.reconcileFromCassandra() ? cassandra(config, b.clock) : null;
        this.reconciler = Optional.ofNullable(source).map(s -> new Reconciler(s, rails, applier, b.clock,
            config.reconcileInterval(), config.reconcileRetryInterval()));
    }

    private static ActiveOffenderSource cassandra(AgentConfig config, Clock clock) {
        SpamtrapConfig sc = SpamtrapConfig.load(config.spamtrapConfig().orElseThrow());
        if (sc.observeTraps()) {
            // observe mode for traps (spamtrap.properties): nothing is blocked, as James sends nothing
            org.slf4j.LoggerFactory.getLogger(Agent.class).info("{}: observe.traps=true: the rebuild from Cassandra blocks nothing",
                config.spamtrapConfig().get());
            return new ActiveOffenderSource() {
                @Override
                public java.util.concurrent.CompletionStage<List<dev.spamtrap.core.offender.Offender>> loadActive() {
                    return java.util.concurrent.CompletableFuture.completedFuture(List.of());
                }

                @Override
                public String describe() {
                    return "nothing (observe.traps=true in " + config.spamtrapConfig().get() + ")";
                }
            };
        }
        return new CassandraOffenderSource(sc.cassandra(), sc.policy(), clock);
    }

    static FirewallBackend backend(AgentConfig c, CommandRunner runner) {
        switch (c.backend()) {
            case IPSET:
                return new IpsetBackend(runner, c.ipsetCommand(), c.iptablesCommand(), c.ip6tablesCommand(), c.ipsetSet4(), c.ipsetSet6(),
                    c.ports(), c.reject(), c.ipsetMaxElements(), c.commandTimeout());
            case PF:
                return new PfBackend(runner, c.pfCommand(), c.pfTable(), c.commandTimeout());
            case LOG:
            case NFTABLES:
            default:
                return new NftablesBackend(runner, c.nftCommand(), c.nftTable(), c.ports(), c.reject(), c.commandTimeout());
        }
    }

    private void warnIfReadableByOthers() {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(config.keyFile());
            if (perms.contains(PosixFilePermission.OTHERS_READ)) {
                LOGGER.warn("Key file {} is readable by every user; chmod 640 (or 600) it", config.keyFile());
            }
        } catch (IOException | UnsupportedOperationException ignored) {
            // not a POSIX file system: nothing to say
        }
    }

    /**
     * Creates the firewall table and sets, starts applying, listens, and starts the start-up rebuild.
     *
     * @throws BackendException when the firewall cannot be set up (the agent must not run half-configured)
     */
    public Agent start() throws BackendException, IOException {
        LOGGER.info("spamtrap-agent starting: backend {}{}", backend.describe(),
            config.backend() == AgentConfig.BackendKind.LOG ? " [LOG ONLY: dry run, nothing is applied]" : "");
        backend.start();
        applier.start();
        if (addresses != null) {
            refresher.scheduleWithFixedDelay(this::refreshAddresses, 60, 60, java.util.concurrent.TimeUnit.SECONDS);
        }
        bound = server.start();
        if (config.statusListen().isPresent()) {
            status = new StatusServer((java.net.InetSocketAddress) config.statusListen().get().address(), applier, breaker);
            LOGGER.info("Status (Prometheus text) on http://{}/metrics", status.start());
        }
        if (reconciler.isPresent()) {
            startupRebuild = reconciler.get().start();
        } else {
            LOGGER.warn("reconcile.source is none: the firewall is not rebuilt from Cassandra; commands lost while the agent was down stay lost");
        }
        LOGGER.info("spamtrap-agent ready: {} protected range(s), circuit breaker at {} new blocks per minute, messages valid for {} s",
            rails.protectedCount(), config.breakerMaxPerMinute(), config.maxAge().toSeconds());
        return this;
    }

    private void refreshAddresses() {
        try {
            rails.refreshOwnAddresses(addresses.read());
        } catch (IOException | RuntimeException e) {
            LOGGER.error("Re-reading this server's addresses in {} failed, keeping the previous list: {}", addresses.describe(), e.getMessage());
        }
    }

    public List<SocketAddress> boundAddresses() {
        return bound;
    }

    /** Completes with the start-up rebuild's report (null when there is no reconcile source). */
    public CompletableFuture<RebuildReport> startupRebuild() {
        return startupRebuild;
    }

    public Optional<Reconciler> reconciler() {
        return reconciler;
    }

    /** The address of the status endpoint, if {@code status.listen} is set. */
    public Optional<java.net.InetSocketAddress> statusAddress() {
        return Optional.ofNullable(status).map(StatusServer::address);
    }

    public Applier applier() {
        return applier;
    }

    public FirewallBackend backend() {
        return backend;
    }

    @Override
    public void close() {
        server.close();
        refresher.shutdownNow();
        if (status != null) {
            status.close();
        }
        reconciler.ifPresent(Reconciler::close);
        applier.close();
        LOGGER.info("spamtrap-agent stopped; blocks already in the kernel keep their lifetimes");
    }
}
