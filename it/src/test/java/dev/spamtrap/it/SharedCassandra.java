package dev.spamtrap.it;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.spamtrap.it.stack.CassandraProcess;
import dev.spamtrap.it.stack.Ports;
import dev.spamtrap.it.stack.ProjectLayout;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * One real Cassandra for the whole integration-test JVM (a forked process; each test class uses its own
 * keyspace). Stopped by the JVM shutdown hook of the process wrapper.
 */
public final class SharedCassandra {
    private static CassandraProcess cassandra;
    private static CqlSession session;

    private SharedCassandra() {
    }

    public static synchronized CassandraProcess get() {
        if (cassandra == null) {
            cassandra = new CassandraProcess(ProjectLayout.locate().root().resolve("it/target/it-cassandra"), Ports.free(), Ports.free())
                .start(Duration.ofSeconds(180));
        }
        return cassandra;
    }

    public static synchronized CqlSession cql() {
        if (session == null) {
            session = CqlSession.builder()
                .addContactPoint(new InetSocketAddress("127.0.0.1", get().nativePort()))
                .withLocalDatacenter("datacenter1")
                .build();
        }
        return session;
    }
}
