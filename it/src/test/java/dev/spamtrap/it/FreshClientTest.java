package dev.spamtrap.it;

import com.datastax.oss.driver.api.core.cql.Row;
import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.runtime.Spamtrap;
import dev.spamtrap.core.store.ClientHistory;
import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.ProjectLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fresh-client path against real Cassandra, with two nodes in this JVM sharing one keyspace: a client no node
 * has heard of is recorded without a read, yet the first hits of one client on two nodes at once are both counted
 * (the node that sees the other's listing recounts), and a client whose history predates a node's start is
 * escalated, not taken for a first offender.
 */
class FreshClientTest {
    static final String KS = "it_fresh";
    static final Path DIR = ProjectLayout.locate().root().resolve("it/target/fresh-client");
    private final List<Spamtrap> nodes = new ArrayList<>();

    @BeforeAll
    static void clean() {
        Dirs.deleteRecursively(DIR);
        // the shared Cassandra keeps its data between runs: start from an empty keyspace
        SharedCassandra.cql().execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + KS)
            .setTimeout(Duration.ofSeconds(60)));
    }

    @AfterEach
    void stop() {
        nodes.forEach(Spamtrap::close);
        nodes.clear();
    }

    private Spamtrap node(String name) throws Exception {
        Path conf = DIR.resolve(name + "/conf/spamtrap.properties");
        Files.createDirectories(conf.getParent());
        Files.writeString(conf, "cassandra.contactPoints=127.0.0.1:" + SharedCassandra.get().nativePort() + "\ncassandra.keyspace=" + KS
            + "\nnode.name=" + name + "\nsync.interval=1s\nretry.interval=1s\nstartup.timeout=60s\nspool.directory=../spool\n"
            + "offender.lifetime=1h\noffender.maxLifetime=8h\noffender.historyLifetime=30d\n");
        Spamtrap s = Spamtrap.start(SpamtrapConfig.load(conf), Clock.systemUTC());
        nodes.add(s);
        ClientHistory h = s.clientHistory().orElseThrow();
        Await.until(Duration.ofSeconds(60), name + "'s client history ready", h::isComplete, ready -> ready);
        return s;
    }

    private static Row offender(String ip) {
        return SharedCassandra.cql().execute("SELECT hit_count, first_hit, expires_at FROM " + KS + ".offenders WHERE ip = ?", ip).one();
    }

    private static long hits(String ip) {
        return SharedCassandra.cql().execute("SELECT count(*) AS n FROM " + KS + ".hits WHERE ip = ?", ip).one().getLong("n");
    }

    @Test
    void firstHitsOfOneClientOnTwoNodesAtOnceAreBothCounted() throws Exception {
        Spamtrap a = node("fresh-a");
        Spamtrap b = node("fresh-b");
        Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        int clients = 20;
        for (int i = 0; i < clients; i++) {
            String ip = "198.51.100." + (10 + i);
            a.recordHit(new TrapHit("a-" + i, ip, ip, at, "trap@example.com", "bot", "x@spam.test", "fresh-a"));
            b.recordHit(new TrapHit("b-" + i, ip, ip, at.plusMillis(1), "trap@example.com", "bot", "x@spam.test", "fresh-b"));
        }
        for (int i = 0; i < clients; i++) {
            String ip = "198.51.100." + (10 + i);
            Await.until(Duration.ofSeconds(30), ip + " has both hits counted", () -> offender(ip),
                r -> r != null && r.getInt("hit_count") == 2 && hits(ip) == 2);
            Row r = offender(ip);
            // both hits fell within the first listing: an hour from the first (or from the second, a millisecond later,
            // when that node's row was written last: a listing is never shortened), not escalated to two
            assertThat(Duration.between(r.getInstant("first_hit"), r.getInstant("expires_at")))
                .isBetween(Duration.ofHours(1), Duration.ofHours(1).plusMillis(1));
        }
        long fresh = a.clientHistory().get().freshClaims() + b.clientHistory().get().freshClaims();
        long recounts = a.clientHistory().get().recounts() + b.clientHistory().get().recounts();
        System.out.printf("fresh writes %d, recounts %d%n", fresh, recounts);
        // each client was fresh on at least one node; where it was fresh on both, a recount counted the other's hit
        assertThat(fresh).isGreaterThanOrEqualTo(clients);
        if (fresh > clients) {
            assertThat(recounts).isGreaterThan(0);
        }
    }

    @Test
    void aClientWithHitsFromBeforeTheNodeStartedIsARepeatOffender() throws Exception {
        String ip = "198.51.100.200";
        Instant old = Instant.now().minus(Duration.ofHours(2)).truncatedTo(ChronoUnit.MILLIS);
        // written by another node, long gone: its one-hour listing has expired, its hit is remembered
        node("fresh-c").close(); // (creates the keyspace)
        nodes.clear();
        SharedCassandra.cql().execute("INSERT INTO " + KS + ".hits (ip, at, id, client, trap, helo, mail_from, node) VALUES (?, ?, 'old-1', ?, "
            + "'trap@example.com', 'bot', 'x@spam.test', 'gone') USING TTL 86400", ip, old, ip);
        Spamtrap c = node("fresh-c");
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        c.recordHit(new TrapHit("c-1", ip, ip, now, "trap@example.com", "bot", "x@spam.test", "fresh-c"));
        Row r = Await.until(Duration.ofSeconds(30), "repeat offence listed", () -> offender(ip), x -> x != null);
        assertThat(r.getInt("hit_count")).isEqualTo(2);
        assertThat(r.getInstant("expires_at")).isEqualTo(now.plus(Duration.ofHours(2)));
    }

    @Test
    void freshClientsWithHugeHeloAndMailFromAreAllStored() throws Exception {
        // A client chooses its HELO and MAIL FROM: several KB each. Fresh clients on the same replicas share a batch,
        // and Cassandra refuses a multi-partition batch above 50 KiB at every replay: the evidence is cut to 256 chars
        // (Evidence) and a batch is bounded in bytes (ReplicaBatches); either alone keeps this batch under the limit.
        Spamtrap d = node("fresh-d");
        long landedBefore = d.clientHistory().get().freshLanded();
        String helo = "h".repeat(6000) + ".example";
        String mailFrom = "m".repeat(6000) + "@spam.test";
        Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        int clients = 12;
        for (int i = 0; i < clients; i++) {
            String ip = "203.0.113." + (10 + i);
            d.recordHit(new TrapHit("d-" + i, ip, ip, at, "trap@example.com", helo, mailFrom, "fresh-d"));
        }
        for (int i = 0; i < clients; i++) {
            String ip = "203.0.113." + (10 + i);
            Await.until(Duration.ofSeconds(30), ip + " stored and listed", () -> offender(ip), r -> r != null && hits(ip) == 1);
        }
        Row stored = SharedCassandra.cql().execute("SELECT helo, mail_from FROM " + KS + ".hits WHERE ip = ?", "203.0.113.10").one();
        assertThat(stored.getString("helo")).hasSize(256).startsWith("hhh").endsWith("...");
        assertThat(stored.getString("mail_from")).hasSize(256);
        // each went the fresh way and landed at once: no batch refused and replayed the careful way
        assertThat(d.clientHistory().get().freshLanded() - landedBefore).isEqualTo(clients);
    }
}
