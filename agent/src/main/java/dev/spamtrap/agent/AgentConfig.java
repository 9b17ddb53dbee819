package dev.spamtrap.agent;

import dev.spamtrap.agent.net.Prefix;
import dev.spamtrap.core.config.ConfigException;
import dev.spamtrap.core.config.PropertiesReader;
import dev.spamtrap.core.config.Durations;
import dev.spamtrap.core.firewall.AgentEndpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * The agent's configuration file (see conf/agent.properties for every key with its meaning and default).
 * Unknown keys are refused so that a typo never silently means a default; every error names the file,
 * the key and the reason. Relative paths are resolved against the folder of the file.
 */
public final class AgentConfig {
    static final Set<String> KEYS = Set.of(
        "key.file", "listen.tcp", "listen.unix", "listen.unix.permissions", "listen.maxConnections", "listen.maxConnectionsPerPeer",
        "listen.idleTimeout", "status.listen", "message.maxAge",
        "backend", "action", "ports", "command.timeout", "batch.size",
        "nft.command", "nft.table",
        "ipset.command", "iptables.command", "ip6tables.command", "ipset.set4", "ipset.set6", "ipset.maxElements",
        "pf.command", "pf.table",
        "allowlist.file", "protect", "protect.localAddresses", "block.maxLifetime", "block.minPrefix4", "block.minPrefix6",
        "breaker.maxNewBlocksPerMinute",
        "reconcile.source", "reconcile.spamtrapConfig", "reconcile.interval", "reconcile.retryInterval", "reconcile.maxEntries",
        "drift.checkInterval", "state.file", "state.saveInterval");

    public enum BackendKind { NFTABLES, IPSET, PF, LOG }

    private final Path source;
    private final Path keyFile;
    private final Optional<AgentEndpoint> listenTcp;
    private final Optional<AgentEndpoint> listenUnix;
    private final String unixPermissions;
    private final int maxConnections;
    private final int maxConnectionsPerPeer;
    private final Duration idleTimeout;
    private final Optional<AgentEndpoint> statusListen;
    private final Duration maxAge;
    private final BackendKind backend;
    private final boolean reject;
    private final List<Integer> ports;
    private final Duration commandTimeout;
    private final int batchSize;
    private final List<String> nftCommand;
    private final String nftTable;
    private final List<String> ipsetCommand;
    private final List<String> iptablesCommand;
    private final List<String> ip6tablesCommand;
    private final String ipsetSet4;
    private final String ipsetSet6;
    private final int ipsetMaxElements;
    private final List<String> pfCommand;
    private final String pfTable;
    private final Optional<Path> allowlistFile;
    private final List<Prefix> protect;
    private final boolean protectLocalAddresses;
    private final Duration maxLifetime;
    private final int minPrefix4;
    private final int minPrefix6;
    private final int breakerMaxPerMinute;
    private final boolean reconcileFromCassandra;
    private final Optional<Path> spamtrapConfig;
    private final Duration reconcileInterval;
    private final Duration reconcileRetryInterval;
    private final Duration driftCheckInterval;
    private final Optional<Path> stateFile;
    private final Duration stateSaveInterval;
    private final int reconcileMaxEntries;

    private AgentConfig(Path source, Properties p) {
        this.source = source;
        Reader r = new Reader(source, p);
        this.keyFile = r.path(r.required("key.file"));
        this.listenTcp = r.optional("listen.tcp").map(v -> r.endpoint("listen.tcp", v.startsWith("tcp:") ? v : "tcp:" + v, false));
        this.listenUnix = r.optional("listen.unix").map(v -> r.endpoint("listen.unix", "unix:" + r.path(v), true));
        if (listenTcp.isEmpty() && listenUnix.isEmpty()) {
            throw ConfigException.atKey(source.toString(), "listen.tcp", "neither listen.tcp nor listen.unix is set; set at least one");
        }
        this.unixPermissions = r.string("listen.unix.permissions", "rw-rw----");
        try {
            PosixFilePermissions.fromString(unixPermissions);
        } catch (IllegalArgumentException e) {
            throw r.fail("listen.unix.permissions", "'" + unixPermissions + "' is not like rw-rw----");
        }
        this.maxConnections = r.intIn("listen.maxConnections", 32, 1, 1024);
        this.maxConnectionsPerPeer = r.intIn("listen.maxConnectionsPerPeer", 8, 1, 1024);
        this.idleTimeout = r.durationIn("listen.idleTimeout", "10s", Duration.ofMillis(100), Duration.ofMinutes(10));
        this.statusListen = r.optional("status.listen").map(v -> r.endpoint("status.listen", v.startsWith("tcp:") ? v : "tcp:" + v, false));
        this.maxAge = r.durationIn("message.maxAge", "30s", Duration.ofSeconds(1), Duration.ofMinutes(10));
        String b = r.string("backend", defaultBackend()).toLowerCase(Locale.ROOT);
        switch (b) {
            case "nftables": this.backend = BackendKind.NFTABLES; break;
            case "ipset": this.backend = BackendKind.IPSET; break;
            case "pf": this.backend = BackendKind.PF; break;
            case "log": this.backend = BackendKind.LOG; break;
            default: throw r.fail("backend", "'" + b + "' is not one of nftables, ipset, pf, log");
        }
        String action = r.string("action", "drop").toLowerCase(Locale.ROOT);
        if (!action.equals("drop") && !action.equals("reject")) {
            throw r.fail("action", "'" + action + "' is neither drop nor reject");
        }
        this.reject = action.equals("reject");
        this.ports = r.ports("ports", "25");
        this.commandTimeout = r.durationIn("command.timeout", "60s", Duration.ofSeconds(1), Duration.ofHours(1));
        this.batchSize = r.intIn("batch.size", 20_000, 1, 1_000_000);
        this.nftCommand = r.argv("nft.command", "nft");
        this.nftTable = r.name("nft.table", "spamtrap", "[A-Za-z][A-Za-z0-9_]{0,31}");
        this.ipsetCommand = r.argv("ipset.command", "ipset");
        this.iptablesCommand = r.argv("iptables.command", "iptables");
        this.ip6tablesCommand = r.argv("ip6tables.command", "ip6tables");
        this.ipsetSet4 = r.name("ipset.set4", "spamtrap4", "[A-Za-z0-9_]{1,26}");
        this.ipsetSet6 = r.name("ipset.set6", "spamtrap6", "[A-Za-z0-9_]{1,26}");
        this.ipsetMaxElements = r.intIn("ipset.maxElements", 1_048_576, 1024, 100_000_000);
        this.pfCommand = r.argv("pf.command", "pfctl");
        this.pfTable = r.name("pf.table", "spamtrap", "[A-Za-z0-9_]{1,31}");
        this.allowlistFile = r.optional("allowlist.file").map(v -> r.existingFile("allowlist.file", v));
        this.protect = r.prefixes("protect");
        this.protectLocalAddresses = r.bool("protect.localAddresses", true);
        this.maxLifetime = r.durationIn("block.maxLifetime", "30d", Duration.ofSeconds(1), Duration.ofDays(366));
        this.minPrefix4 = r.intIn("block.minPrefix4", 24, 8, 32);
        this.minPrefix6 = r.intIn("block.minPrefix6", 48, 16, 128);
        this.breakerMaxPerMinute = r.intIn("breaker.maxNewBlocksPerMinute", 600, 1, 10_000_000);
        String src = r.string("reconcile.source", "cassandra").toLowerCase(Locale.ROOT);
        if (!src.equals("cassandra") && !src.equals("none")) {
            throw r.fail("reconcile.source", "'" + src + "' is neither cassandra nor none");
        }
        this.reconcileFromCassandra = src.equals("cassandra");
        Optional<String> sc = r.optional("reconcile.spamtrapConfig");
        if (reconcileFromCassandra && sc.isEmpty()) {
            throw r.fail("reconcile.spamtrapConfig", "is required when reconcile.source is cassandra (the spamtrap.properties that names the Cassandra cluster)");
        }
        this.spamtrapConfig = sc.map(v -> r.existingFile("reconcile.spamtrapConfig", v));
        this.reconcileInterval = r.durationIn("reconcile.interval", "5m", Duration.ofSeconds(1), Duration.ofDays(1));
        this.reconcileRetryInterval = r.durationIn("reconcile.retryInterval", "30s", Duration.ofSeconds(1), Duration.ofDays(1));
        this.driftCheckInterval = r.durationIn("drift.checkInterval", "1s", Duration.ZERO, Duration.ofMinutes(10));
        this.reconcileMaxEntries = r.intIn("reconcile.maxEntries", 1_000_000, 1, 100_000_000);
        this.stateFile = r.optional("state.file").map(r::path);
        this.stateSaveInterval = r.durationIn("state.saveInterval", "1m", Duration.ofSeconds(1), Duration.ofDays(1));
    }

    private static String defaultBackend() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        return os.contains("bsd") || os.contains("mac") ? "pf" : "nftables";
    }

    /** @throws ConfigException naming the file, key and reason */
    public static AgentConfig load(Path file) {
        return new AgentConfig(file, PropertiesReader.load(file, KEYS, "agent configuration"));
    }

    public Path source() { return source; }
    public Path keyFile() { return keyFile; }
    public Optional<AgentEndpoint> listenTcp() { return listenTcp; }
    public Optional<AgentEndpoint> listenUnix() { return listenUnix; }
    public String unixPermissions() { return unixPermissions; }
    public int maxConnections() { return maxConnections; }
    public int maxConnectionsPerPeer() { return maxConnectionsPerPeer; }
    public Duration idleTimeout() { return idleTimeout; }
    public Optional<AgentEndpoint> statusListen() { return statusListen; }
    public Duration maxAge() { return maxAge; }
    public BackendKind backend() { return backend; }
    public boolean reject() { return reject; }
    public List<Integer> ports() { return ports; }
    public Duration commandTimeout() { return commandTimeout; }
    public int batchSize() { return batchSize; }
    public List<String> nftCommand() { return nftCommand; }
    public String nftTable() { return nftTable; }
    public List<String> ipsetCommand() { return ipsetCommand; }
    public List<String> iptablesCommand() { return iptablesCommand; }
    public List<String> ip6tablesCommand() { return ip6tablesCommand; }
    public String ipsetSet4() { return ipsetSet4; }
    public String ipsetSet6() { return ipsetSet6; }
    public int ipsetMaxElements() { return ipsetMaxElements; }
    public List<String> pfCommand() { return pfCommand; }
    public String pfTable() { return pfTable; }
    public Optional<Path> allowlistFile() { return allowlistFile; }
    public List<Prefix> protect() { return protect; }
    public boolean protectLocalAddresses() { return protectLocalAddresses; }
    public Duration maxLifetime() { return maxLifetime; }
    public int minPrefix4() { return minPrefix4; }
    public int minPrefix6() { return minPrefix6; }
    public int breakerMaxPerMinute() { return breakerMaxPerMinute; }
    public boolean reconcileFromCassandra() { return reconcileFromCassandra; }
    public Optional<Path> spamtrapConfig() { return spamtrapConfig; }
    public Duration reconcileInterval() { return reconcileInterval; }
    public Duration reconcileRetryInterval() { return reconcileRetryInterval; }
    /** How often the kernel is compared with the agent's view (0: never; the table's presence is still checked). */
    public Duration driftCheckInterval() { return driftCheckInterval; }
    /** Where the agent saves its view of the sets (loaded at start so a restart knows the kernel at once); empty: not saved. */
    public Optional<Path> stateFile() { return stateFile; }
    public Duration stateSaveInterval() { return stateSaveInterval; }
    public int reconcileMaxEntries() { return reconcileMaxEntries; }

    /** The shared typed reads, plus the agent's own kinds of value. */
    private static final class Reader extends PropertiesReader {
        Reader(Path source, Properties p) {
            super(source, p);
        }

        AgentEndpoint endpoint(String key, String value, boolean unix) {
            try {
                return AgentEndpoint.parse(value);
            } catch (IllegalArgumentException e) {
                throw fail(key, e.getMessage());
            }
        }

        List<Integer> ports(String key, String dflt) {
            List<Integer> out = new ArrayList<>();
            for (String part : string(key, dflt).split(",")) {
                String t = part.trim();
                if (t.isEmpty()) {
                    continue;
                }
                try {
                    int port = Integer.parseInt(t);
                    if (port < 1 || port > 65535) {
                        throw fail(key, "port " + port + " out of range 1..65535");
                    }
                    out.add(port);
                } catch (NumberFormatException e) {
                    throw fail(key, "'" + t + "' is not a port number");
                }
            }
            if (out.isEmpty()) {
                throw fail(key, "no port given");
            }
            return List.copyOf(out);
        }

        /** A command prefix split on white space; no shell, no quoting. */
        List<String> argv(String key, String dflt) {
            String v = string(key, dflt);
            List<String> out = new ArrayList<>();
            for (String part : v.trim().split("\\s+")) {
                if (!part.isEmpty()) {
                    if (part.matches(".*[;&|`$<>\"'\\\\].*")) {
                        throw fail(key, "'" + part + "' has shell characters; this is an argument vector (split on spaces), not a shell command");
                    }
                    out.add(part);
                }
            }
            if (out.isEmpty()) {
                throw fail(key, "empty command");
            }
            return List.copyOf(out);
        }


        List<Prefix> prefixes(String key) {
            List<Prefix> out = new ArrayList<>();
            for (String part : string(key, "").split(",")) {
                String t = part.trim();
                if (t.isEmpty()) {
                    continue;
                }
                try {
                    out.add(Prefix.parse(t));
                } catch (IllegalArgumentException e) {
                    throw fail(key, e.getMessage());
                }
            }
            return List.copyOf(out);
        }
    }
}
