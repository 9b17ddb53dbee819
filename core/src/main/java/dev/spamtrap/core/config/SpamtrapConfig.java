package dev.spamtrap.core.config;

import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.net.OffenderKeys;
import dev.spamtrap.core.offender.Cause;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.store.CassandraSettings;
import dev.spamtrap.core.store.PrefixEscalation;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * The shared settings in {@code conf/spamtrap.properties}: where Cassandra is, where the trap list and
 * allowlist files are, and how long offenders stay listed. Relative paths are resolved against the
 * folder of the properties file. Unknown keys are refused, so a typo never silently means a default.
 */
public final class SpamtrapConfig {
    static final Set<String> KEYS = Set.of(
        "cassandra.contactPoints", "cassandra.localDatacenter", "cassandra.keyspace", "cassandra.replicationFactor",
        "cassandra.requestTimeout", "cassandra.username", "cassandra.password",
        "cassandra.replication", "cassandra.writeConsistency", "cassandra.readConsistency",
        "sync.interval", "sync.fullInterval", "spool.maxBytes", "spool.batchSize",
        "prefix.escalation.addresses", "prefix.escalation.window", "prefix.escalation.ipv4Length", "prefix.escalation.ipv6Length",
        "node.name", "traps.file", "allowlist.file", "trustedRelays",
        "offender.lifetime", "offender.maxLifetime", "offender.historyLifetime", "offender.ipv6Prefix", "protocol.lifetime", "observe.traps",
        "refresh.interval", "retry.interval", "startup.timeout", "spool.directory",
        "firewall.agent", "firewall.keyFile", "firewall.timeout");

    private final Path source;
    private final CassandraSettings cassandra;
    private final String nodeName;
    private final Optional<Path> trapsFile;
    private final Optional<Path> allowlistFile;
    private final OffenderPolicy policy;
    private final Duration refreshInterval;
    private final OffenderKeys offenderKeys;
    private final Duration retryInterval;
    private final Duration startupTimeout;
    private final Path spoolDirectory;
    private final Optional<String> firewallAgent;
    private final Optional<Path> firewallKeyFile;
    private final Duration firewallTimeout;
    private final Duration syncInterval;
    private final Duration fullSyncInterval;
    private final long spoolMaxBytes;
    private final int spoolBatchSize;
    private final PrefixEscalation prefixEscalation;
    private final Duration protocolLifetime;
    private final boolean observeTraps;
    private final Allowlist trustedRelays;
    private final List<dev.spamtrap.core.blocklist.BlocklistSettings> blocklists;

    private SpamtrapConfig(Path source, Properties p) {
        this.source = source;
        PropertiesReader r = new PropertiesReader(source, p);
        String localDc = r.string("cassandra.localDatacenter", "datacenter1");
        int rf = r.intIn("cassandra.replicationFactor", 1, 1, 100);
        this.cassandra = new CassandraSettings(
            contactPoints(r, "cassandra.contactPoints", "127.0.0.1:9042"),
            localDc,
            r.name("cassandra.keyspace", "spamtrap", "[A-Za-z][A-Za-z0-9_]{0,47}"),
            replication(r, "cassandra.replication", localDc, rf),
            r.duration("cassandra.requestTimeout", "5s"),
            r.optional("cassandra.username"),
            r.optional("cassandra.password"),
            consistency(r, "cassandra.writeConsistency"),
            consistency(r, "cassandra.readConsistency"));
        this.syncInterval = r.durationIn("sync.interval", "250ms", Duration.ofMillis(100), Duration.ofMinutes(1));
        this.fullSyncInterval = r.positiveDuration("sync.fullInterval", "1h");
        this.spoolMaxBytes = (long) r.intIn("spool.maxBytes", 256 * 1024 * 1024, 64 * 1024, Integer.MAX_VALUE);
        this.spoolBatchSize = r.intIn("spool.batchSize", 512, 1, 100_000);
        this.prefixEscalation = new PrefixEscalation(
            r.intIn("prefix.escalation.addresses", 0, 0, 1_000_000),
            r.positiveDuration("prefix.escalation.window", "1h"),
            r.intIn("prefix.escalation.ipv4Length", 24, 8, 31),
            r.intIn("prefix.escalation.ipv6Length", 48, 16, 127));
        this.nodeName = r.optional("node.name").orElseGet(SpamtrapConfig::hostName);
        this.trapsFile = r.optional("traps.file").map(f -> r.existingFile("traps.file", f));
        this.allowlistFile = r.optional("allowlist.file").map(f -> r.existingFile("allowlist.file", f));
        this.trustedRelays = ranges(r, "trustedRelays");
        Duration lifetime = r.duration("offender.lifetime", "24h");
        Duration max = r.duration("offender.maxLifetime", "3d");
        Duration history = r.duration("offender.historyLifetime", "30d");
        if (lifetime.getSeconds() < 1) {
            throw ConfigException.atKey(source.toString(), "offender.lifetime", "must be at least 1s");
        }
        if (max.compareTo(lifetime) < 0) {
            throw ConfigException.atKey(source.toString(), "offender.maxLifetime",
                "(" + Durations.human(max) + ") is shorter than offender.lifetime (" + Durations.human(lifetime) + ")");
        }
        this.policy = new OffenderPolicy(lifetime, max, history);
        this.protocolLifetime = r.durationIn("protocol.lifetime", "1h", Duration.ofSeconds(1), Duration.ofDays(30));
        this.observeTraps = r.bool("observe.traps", false);
        int ipv6Prefix = r.intIn("offender.ipv6Prefix", 64, 32, 128);
        this.offenderKeys = new OffenderKeys(ipv6Prefix);
        this.refreshInterval = r.positiveDuration("refresh.interval", "60s");
        this.retryInterval = r.positiveDuration("retry.interval", "5s");
        this.startupTimeout = r.duration("startup.timeout", "15s");
        this.spoolDirectory = r.path(r.string("spool.directory", "../var/spamtrap"));
        this.firewallAgent = r.optional("firewall.agent");
        this.firewallKeyFile = r.optional("firewall.keyFile").map(f -> r.existingFile("firewall.keyFile", f));
        this.firewallTimeout = r.positiveDuration("firewall.timeout", "2s");
        if (firewallAgent.isPresent() && firewallKeyFile.isEmpty()) {
            throw ConfigException.atKey(source.toString(), "firewall.keyFile", "is required when firewall.agent is set");
        }
        this.blocklists = BlocklistKeys.read(r, r.keys());
    }

    public static SpamtrapConfig load(Path file) {
        Properties p = PropertiesReader.load(file, KEYS, BlocklistKeys::isListKey, "spamtrap configuration");
        return new SpamtrapConfig(file, p);
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "james";
        }
    }

    public Path source() { return source; }
    public CassandraSettings cassandra() { return cassandra; }
    public String nodeName() { return nodeName; }
    public Optional<Path> trapsFile() { return trapsFile; }
    public Optional<Path> allowlistFile() { return allowlistFile; }
    public OffenderPolicy policy() { return policy; }
    public Duration refreshInterval() { return refreshInterval; }
    public OffenderKeys offenderKeys() { return offenderKeys; }
    public Duration retryInterval() { return retryInterval; }
    public Duration startupTimeout() { return startupTimeout; }
    public Path spoolDirectory() { return spoolDirectory; }
    public Optional<String> firewallAgent() { return firewallAgent; }
    public Optional<Path> firewallKeyFile() { return firewallKeyFile; }
    public Duration firewallTimeout() { return firewallTimeout; }
    /** How often the change feed is read. */
    public Duration syncInterval() { return syncInterval; }
    /** How often the whole offenders table is re-read as a safety net. */
    public Duration fullSyncInterval() { return fullSyncInterval; }
    public long spoolMaxBytes() { return spoolMaxBytes; }
    /** Hits replayed to the store per batch. */
    public int spoolBatchSize() { return spoolBatchSize; }
    public PrefixEscalation prefixEscalation() { return prefixEscalation; }
    /** How long a protocol sensor's listing lasts (class protocol: never doubled, never sent to the firewall nor exported). */
    public Duration protocolLifetime() { return protocolLifetime; }
    /**
     * Observe mode for traps: trap hits are recorded and listed as usual, but this node acts on no trap-class listing (no
     * refusal, no tarpit, nothing to the firewall agent, nothing exported); it reports what it would have done.
     */
    public boolean observeTraps() { return observeTraps; }
    /** Other lists loaded from files or URLs ({@code lists}, {@code list.<name>.*}), in the order named. */
    public List<dev.spamtrap.core.blocklist.BlocklistSettings> blocklists() { return blocklists; }

    /** A cause as this node acts on it: only observed, for a trap-class cause under {@code observe.traps}. */
    public Cause actedCause(Cause cause) {
        return observeTraps && !cause.isWeak() ? cause.observed() : cause;
    }
    /**
     * The administrator's own backup MX and forwarders: never refused, tarpitted or tested by a sensor, their trap hits
     * attributed to the client they relay for, and no listing around them blocked by the firewall nor exported.
     */
    public Allowlist trustedRelays() { return trustedRelays; }

    private static Allowlist ranges(PropertiesReader r, String key) {
        List<CidrRange> ranges = new ArrayList<>();
        for (String part : r.string(key, "").split("[,\\s]+")) {
            if (part.isBlank()) {
                continue;
            }
            try {
                ranges.add(CidrRange.parse(part));
            } catch (IllegalArgumentException e) {
                throw r.fail(key, e.getMessage() + " (addresses or CIDR prefixes, separated by commas)");
            }
        }
        return new Allowlist(ranges);
    }

    private static final Set<String> LEVELS = Set.of("ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_ONE", "LOCAL_QUORUM", "EACH_QUORUM");

    private static String consistency(PropertiesReader r, String key) {
        String v = r.string(key, "LOCAL_QUORUM").trim().toUpperCase(java.util.Locale.ROOT);
        if (!LEVELS.contains(v)) {
            throw r.fail(key, "'" + v + "' is not a consistency level (one of " + new java.util.TreeSet<>(LEVELS) + ")");
        }
        return v;
    }

    /** {@code dc1:3,dc2:3}; default: the local datacenter with cassandra.replicationFactor replicas. */
    private static java.util.Map<String, Integer> replication(PropertiesReader r, String key, String localDc, int rf) {
        java.util.Map<String, Integer> out = new java.util.LinkedHashMap<>();
        Optional<String> text = r.optional(key);
        if (text.isEmpty()) {
            out.put(localDc, rf);
            return out;
        }
        for (String part : text.get().split(",")) {
            String t = part.trim();
            if (t.isEmpty()) {
                continue;
            }
            int colon = t.lastIndexOf(':');
            if (colon <= 0) {
                throw r.fail(key, "'" + t + "' is not datacenter:replicas");
            }
            try {
                int n = Integer.parseInt(t.substring(colon + 1).trim());
                if (n < 1 || n > 100) {
                    throw r.fail(key, "'" + t + "': replicas must be 1..100");
                }
                out.put(t.substring(0, colon).trim(), n);
            } catch (NumberFormatException e) {
                throw r.fail(key, "'" + t + "' is not datacenter:replicas");
            }
        }
        if (out.isEmpty()) {
            throw r.fail(key, "no datacenter given");
        }
        if (!out.containsKey(localDc)) {
            throw r.fail(key, "does not name the local datacenter '" + localDc + "' (cassandra.localDatacenter)");
        }
        return out;
    }

    private static List<InetSocketAddress> contactPoints(PropertiesReader r, String key, String dflt) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String part : r.string(key, dflt).split(",")) {
            String t = part.trim();
            if (t.isEmpty()) {
                continue;
            }
            int colon = t.lastIndexOf(':');
            String host = colon < 0 ? t : t.substring(0, colon);
            int port = 9042;
            if (colon >= 0) {
                try {
                    port = Integer.parseInt(t.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw r.fail(key, "'" + t + "' has a bad port (use host:port)");
                }
                if (port < 1 || port > 65535) {
                    throw r.fail(key, "'" + t + "' has port " + port + " out of range");
                }
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            out.add(InetSocketAddress.createUnresolved(host, port));
        }
        if (out.isEmpty()) {
            throw r.fail(key, "no contact point given");
        }
        return out;
    }
}
