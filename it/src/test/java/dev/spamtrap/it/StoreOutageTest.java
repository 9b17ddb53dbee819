package dev.spamtrap.it;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.spamtrap.it.stack.CassandraProcess;
import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.Ports;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.SmtpClient;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * James starts while its Cassandra is down: mail keeps flowing, a trap hit is refused locally at once and
 * kept on disk, and lands in Cassandra once it comes up; a spooled hit of a client allowlisted meanwhile never does.
 */
class StoreOutageTest {
    @Test
    void hitsAreKeptAndReplayedWhenCassandraComesUp() throws Exception {
        int nativePort = Ports.free();
        Path cassandraDir = ProjectLayout.locate().root().resolve("it/target/outage-cassandra");
        Dirs.deleteRecursively(cassandraDir);
        try (JamesProcess james = JamesFixture.james("outage", "it_outage").refusingAtConnect()
                .cassandra("127.0.0.1:" + nativePort)
                .spamtrapProperty("startup.timeout", "2s")
                .spamtrapProperty("cassandra.requestTimeout", "2s")
                .prepare()
                .start(JamesFixture.START);
             CassandraProcess cassandra = new CassandraProcess(cassandraDir, nativePort, Ports.free())) {
            int port = james.smtpPort();
            List<String> replies = SmtpClient.deliver("127.0.0.40", port, "bot@spam.test", List.of("trap@example.com"), "while-down");
            assertThat(replies).allSatisfy(r -> assertThat(r).matches("(?s)^[23]\\d\\d.*"));
            assertThat(JamesFixture.connectionAnswer("127.0.0.40", port).get(0)).startsWith("450 ").contains("127.0.0.40");
            assertThat(JamesFixture.connectionAnswer("127.0.0.41", port).get(0)).as("other clients still served").startsWith("220 ");
            Path spool = james.root().resolve("var/spamtrap/hits.spool");
            Await.until(Duration.ofSeconds(10), "spooled hit", () -> spool.toFile().length() > 0, x -> x);
            assertThat(Files.readString(spool)).contains("127.0.0.40");
            // another client's hit spooled, then its range allowlisted (the file; the table needs Cassandra) before the replay
            assertThat(SmtpClient.deliver("127.0.0.42", port, "bot@spam.test", List.of("trap@example.com"), "while-down"))
                .allSatisfy(r -> assertThat(r).matches("(?s)^[23]\\d\\d.*"));
            Await.until(Duration.ofSeconds(10), "second spooled hit", () -> {
                try {
                    return Files.readString(spool);
                } catch (java.io.IOException e) {
                    return "";
                }
            }, t -> t.contains("127.0.0.42"));
            Path allowlist = james.conf().resolve("allowlist.txt");
            Files.writeString(allowlist, Files.readString(allowlist) + "\n127.0.0.42/31\n");
            Await.until(Duration.ofSeconds(30), "allowlist reloaded", () -> JamesFixture.connectionAnswer("127.0.0.42", port).get(0),
                r -> r.startsWith("220 "));

            cassandra.start(Duration.ofSeconds(180));
            try (CqlSession cql = CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", nativePort))
                    .withLocalDatacenter("datacenter1").build()) {
                Row row = Await.until(Duration.ofSeconds(60), "replayed hit in Cassandra", () -> {
                    try {
                        return cql.execute("SELECT ip, hit_count, trap FROM it_outage.offenders WHERE ip = '127.0.0.40'").one();
                    } catch (RuntimeException e) {
                        return null;
                    }
                }, r -> r != null);
                assertThat(row.getString("trap")).isEqualTo("trap@example.com");
                assertThat(row.getInt("hit_count")).isEqualTo(1);
            }
            Await.until(Duration.ofSeconds(10), "spool drained", () -> spool.toFile().length(), n -> n == 0L);
            try (CqlSession cql = CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", nativePort))
                    .withLocalDatacenter("datacenter1").build()) {
                assertThat(cql.execute("SELECT ip FROM it_outage.offenders WHERE ip = '127.0.0.42'").one())
                    .as("the hit of a client allowlisted since it was spooled is not stored").isNull();
            }
            assertThat(james.log()).contains("127.0.0.42 is allowlisted since the hit was spooled");
        }
    }
}
