package dev.spamtrap.core.store;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Where the shared keyspace lives and how to reach it. */
public final class CassandraSettings {
    private final List<InetSocketAddress> contactPoints;
    private final String localDatacenter;
    private final String keyspace;
    private final int replicationFactor;
    private final Duration requestTimeout;
    private final Optional<String> username;
    private final Optional<String> password;

    public CassandraSettings(List<InetSocketAddress> contactPoints, String localDatacenter, String keyspace,
                             int replicationFactor, Duration requestTimeout, Optional<String> username, Optional<String> password) {
        this.contactPoints = List.copyOf(contactPoints);
        this.localDatacenter = localDatacenter;
        this.keyspace = keyspace;
        this.replicationFactor = replicationFactor;
        this.requestTimeout = requestTimeout;
        this.username = username;
        this.password = password;
    }

    public List<InetSocketAddress> contactPoints() { return contactPoints; }
    public String localDatacenter() { return localDatacenter; }
    public String keyspace() { return keyspace; }
    public int replicationFactor() { return replicationFactor; }
    public Duration requestTimeout() { return requestTimeout; }
    public Optional<String> username() { return username; }
    public Optional<String> password() { return password; }
}
