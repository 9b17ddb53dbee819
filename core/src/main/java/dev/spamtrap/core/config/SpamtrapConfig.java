package dev.spamtrap.core.config;

import dev.spamtrap.core.net.OffenderKeys;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.store.CassandraSettings;

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
        "node.name", "traps.file", "allowlist.file",
        "offender.lifetime", "offender.maxLifetime", "offender.historyLifetime", "offender.ipv6Prefix",
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

    private SpamtrapConfig(Path source, Properties p) {
        this.source = source;
        PropertiesReader r = new PropertiesReader(source, p);
        this.cassandra = new CassandraSettings(
            contactPoints(r, "cassandra.contactPoints", "127.0.0.1:9042"),
            r.string("cassandra.localDatacenter", "datacenter1"),
            r.name("cassandra.keyspace", "spamtrap", "[A-Za-z][A-Za-z0-9_]{0,47}"),
            r.intIn("cassandra.replicationFactor", 1, 1, 100),
            r.duration("cassandra.requestTimeout", "5s"),
            r.optional("cassandra.username"),
            r.optional("cassandra.password"));
        this.nodeName = r.optional("node.name").orElseGet(SpamtrapConfig::hostName);
        this.trapsFile = r.optional("traps.file").map(f -> r.existingFile("traps.file", f));
        this.allowlistFile = r.optional("allowlist.file").map(f -> r.existingFile("allowlist.file", f));
        Duration lifetime = r.duration("offender.lifetime", "24h");
        Duration max = r.duration("offender.maxLifetime", "7d");
        Duration history = r.duration("offender.historyLifetime", "30d");
        if (lifetime.getSeconds() < 1) {
            throw ConfigException.atKey(source.toString(), "offender.lifetime", "must be at least 1s");
        }
        if (max.compareTo(lifetime) < 0) {
            throw ConfigException.atKey(source.toString(), "offender.maxLifetime",
                "(" + Durations.human(max) + ") is shorter than offender.lifetime (" + Durations.human(lifetime) + ")");
        }
        this.policy = new OffenderPolicy(lifetime, max, history);
        int ipv6Prefix = r.intIn("offender.ipv6Prefix", 64, 32, 128);
        this.offenderKeys = new OffenderKeys(ipv6Prefix);
        this.refreshInterval = r.positiveDuration("refresh.interval", "10s");
        this.retryInterval = r.positiveDuration("retry.interval", "5s");
        this.startupTimeout = r.duration("startup.timeout", "15s");
        this.spoolDirectory = r.path(r.string("spool.directory", "../var/spamtrap"));
        this.firewallAgent = r.optional("firewall.agent");
        this.firewallKeyFile = r.optional("firewall.keyFile").map(f -> r.existingFile("firewall.keyFile", f));
        this.firewallTimeout = r.positiveDuration("firewall.timeout", "2s");
        if (firewallAgent.isPresent() && firewallKeyFile.isEmpty()) {
            throw ConfigException.atKey(source.toString(), "firewall.keyFile", "is required when firewall.agent is set");
        }
    }

    public static SpamtrapConfig load(Path file) {
        Properties p = PropertiesReader.load(file, KEYS, "spamtrap configuration");
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
