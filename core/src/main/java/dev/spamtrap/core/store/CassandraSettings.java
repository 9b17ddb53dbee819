package dev.spamtrap.core.store;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the shared keyspace lives and how to reach it: contact points, the local datacenter, per-datacenter
 * replication (NetworkTopologyStrategy) and the consistency levels of writes and reads.
 */
public final class CassandraSettings {
    private final List<InetSocketAddress> contactPoints;
    private final String localDatacenter;
    private final String keyspace;
    private final Map<String, Integer> replication;
    private final Duration requestTimeout;
    private final Optional<String> username;
    private final Optional<String> password;
    private final String writeConsistency;
    private final String readConsistency;

    /** One datacenter ({@code localDatacenter}) with {@code replicationFactor} replicas, LOCAL_QUORUM both ways. */
    public CassandraSettings(List<InetSocketAddress> contactPoints, String localDatacenter, String keyspace,
                             int replicationFactor, Duration requestTimeout, Optional<String> username, Optional<String> password) {
        this(contactPoints, localDatacenter, keyspace, Map.of(localDatacenter, replicationFactor), requestTimeout, username, password,
            "LOCAL_QUORUM", "LOCAL_QUORUM");
    }

    public CassandraSettings(List<InetSocketAddress> contactPoints, String localDatacenter, String keyspace,
                             Map<String, Integer> replication, Duration requestTimeout, Optional<String> username, Optional<String> password,
                             String writeConsistency, String readConsistency) {
        this.contactPoints = List.copyOf(contactPoints);
        this.localDatacenter = localDatacenter;
        this.keyspace = keyspace;
        this.replication = new LinkedHashMap<>(replication);
        this.requestTimeout = requestTimeout;
        this.username = username;
        this.password = password;
        this.writeConsistency = writeConsistency;
        this.readConsistency = readConsistency;
    }

    public List<InetSocketAddress> contactPoints() { return contactPoints; }
    public String localDatacenter() { return localDatacenter; }
    public String keyspace() { return keyspace; }
    /** Replicas per datacenter. */
    public Map<String, Integer> replication() { return replication; }
    /** Replicas in the local datacenter. */
    public int replicationFactor() { return replication.getOrDefault(localDatacenter, 1); }
    public Duration requestTimeout() { return requestTimeout; }
    public Optional<String> username() { return username; }
    public Optional<String> password() { return password; }
    /** A driver consistency level name, e.g. LOCAL_QUORUM. */
    public String writeConsistency() { return writeConsistency; }
    public String readConsistency() { return readConsistency; }
}
