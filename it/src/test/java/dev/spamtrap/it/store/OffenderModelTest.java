package dev.spamtrap.it.store;

import com.datastax.oss.driver.api.core.cql.Row;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.store.CassandraOffenderStore;
import dev.spamtrap.core.store.CassandraSettings;
import dev.spamtrap.core.store.Change;
import dev.spamtrap.core.store.FeedSource;
import dev.spamtrap.it.SharedCassandra;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The offender model on a real Cassandra, through the store API of two nodes' stores and an administrator's: a
 * listing's end and hit count after escalations, replays and another node's hits; forgive is final for the hits it
 * forgives, replayed by any node; a client with 200,000 hits costs a hit what a fresh one does (one read, one write, counted by
 * Cassandra); the feed numbers
 * each writer's rows without gaps; the previous version's keyspace is refused by name.
 */
class OffenderModelTest {
    static final String KS = "it_model";
    /** Lifetimes in hours so hit times in the past can build an escalation that is active now. */
    static final OffenderPolicy POLICY = new OffenderPolicy(Duration.ofHours(1), Duration.ofHours(8), Duration.ofDays(2));
    static CassandraOffenderStore nodeA;
    static CassandraOffenderStore nodeB;
    static CassandraOffenderStore admin;

    static CassandraSettings settings(String ks) {
        return new CassandraSettings(List.of(new InetSocketAddress("127.0.0.1", SharedCassandra.get().nativePort())), "datacenter1", ks, 1,
            Duration.ofSeconds(20), Optional.empty(), Optional.empty());
    }

    @BeforeAll
    static void connect() {
        // the shared Cassandra keeps its data between runs: each run starts from an empty keyspace
        SharedCassandra.cql().execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + KS)
            .setTimeout(Duration.ofSeconds(60)));
        for (String old : List.of("it_model_old", "it_model_earlier")) {
            SharedCassandra.cql().execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + old)
                .setTimeout(Duration.ofSeconds(60)));
        }
        nodeA = new CassandraOffenderStore(settings(KS), POLICY, Clock.systemUTC(), "node-a");
        nodeB = new CassandraOffenderStore(settings(KS), POLICY, Clock.systemUTC(), "node-b");
        admin = new CassandraOffenderStore(settings(KS), POLICY, Clock.systemUTC());
        nodeA.connect();
        nodeB.connect();
        admin.connect();
    }

    @AfterAll
    static void close() {
        for (CassandraOffenderStore s : Arrays.asList(nodeA, nodeB, admin)) {
            if (s != null) {
                s.close();
            }
        }
    }

    static TrapHit hit(String key, String id, Instant at, String node) {
        return new TrapHit(id, key, key, at, "trap@example.com", "helo.test", "bot@spam.test", node);
    }

    static Row listing(String key) {
        return SharedCassandra.cql().execute("SELECT hit_count, offences, expires_at, reason, generation FROM " + KS + ".offenders WHERE ip = ?", key).one();
    }

    /** Reads and writes of {@code KS.offenders} Cassandra has coordinated since it started (its table metrics). */
    static long[] offendersRequests() {
        long[] out = new long[2];
        String[] views = {"coordinator_read_latency", "coordinator_write_latency"};
        for (int i = 0; i < 2; i++) {
            Row r = SharedCassandra.cql().execute("SELECT count FROM system_views." + views[i] + " WHERE keyspace_name = ? AND table_name = 'offenders'", KS)
                .one();
            out[i] = r == null ? 0 : r.getLong("count");
        }
        return out;
    }

    static List<Offender> record(CassandraOffenderStore store, TrapHit... hits) {
        return store.recordAll(List.of(hits)).toCompletableFuture().join();
    }

    /**
     * First hits of the same fresh clients on two nodes at the same moment (each node's read finds nothing stored): once
     * each node has read the other's feed (where the other's listing shows), both hits are counted and kept as evidence,
     * and the listing is one of the two first hits', whatever order the writes landed in.
     */
    @Test
    void twoFirstHitsOfOneClientOnTwoNodesAtOnceAreBothCounted() {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<TrapHit> onA = new ArrayList<>();
        List<TrapHit> onB = new ArrayList<>();
        for (int i = 1; i <= 200; i++) {
            String key = "198.51.102." + i;
            onA.add(hit(key, "first-a-" + i, now.minusMillis(i % 3), "node-a"));
            onB.add(hit(key, "first-b-" + i, now.minusMillis(i % 2), "node-b"));
        }
        var a = nodeA.recordAll(onA).toCompletableFuture();
        var b = nodeB.recordAll(onB).toCompletableFuture();
        a.join();
        b.join();
        // each node reads the other's feed, as its sync does every sync.interval
        List<FeedSource> sources = admin.feedSources().toCompletableFuture().join();
        FeedSource fromA = sources.stream().filter(f -> f.writer().equals("node-a")).findFirst().orElseThrow();
        FeedSource fromB = sources.stream().filter(f -> f.writer().equals("node-b")).findFirst().orElseThrow();
        nodeA.changesAfter(fromB, 0).toCompletableFuture().join();
        nodeB.changesAfter(fromA, 0).toCompletableFuture().join();
        for (TrapHit h : onA) {
            dev.spamtrap.it.Await.until(java.time.Duration.ofSeconds(30), "both first hits of " + h.key() + " counted", () -> listing(h.key()).getInt("hit_count"),
                n -> n >= 2);
        }
        for (int i = 0; i < onA.size(); i++) {
            String key = onA.get(i).key();
            Row r = listing(key);
            assertThat(r.getInt("hit_count")).as("hits of " + key + " counted").isEqualTo(2);
            assertThat(r.getInt("offences")).as(key).isEqualTo(1);
            assertThat(r.getInstant("expires_at")).as("listing of " + key)
                .isIn(onA.get(i).at().plus(POLICY.lifetime()), onB.get(i).at().plus(POLICY.lifetime()));
            assertThat(admin.offender(key).toCompletableFuture().join().orElseThrow().evidence()).extracting(TrapHit::id).as("evidence of " + key)
                .containsExactlyInAnyOrder(onA.get(i).id(), onB.get(i).id());
        }
        // replays on either node count nothing again
        nodeB.recordAll(onA).toCompletableFuture().join();
        nodeA.recordAll(onB).toCompletableFuture().join();
        assertThat(onA).allSatisfy(h -> assertThat(listing(h.key()).getInt("hit_count")).isEqualTo(2));
    }

    /**
     * The connect-time view's full load (what a restarted node reads) keeps why each key is listed: a trap hit, a repeat
     * offence, a hand listing and a protocol sensor's listing each come back with their cause, so the refusal text and
     * the confidence class (protocol listings never reach the agent) survive a restart.
     */
    @Test
    void theViewsFullLoadKeepsEachListingsCause() {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        record(nodeA, hit("198.51.104.1", "cause-trap", now, "node-a"));
        record(nodeA, hit("198.51.104.2", "cause-repeat-1", now.minus(POLICY.lifetime()).minusSeconds(60), "node-a"));
        record(nodeA, hit("198.51.104.2", "cause-repeat-2", now, "node-a"));
        admin.listByHand("198.51.104.3", now.plusSeconds(3600), "it").toCompletableFuture().join();
        admin.listForProtocol("198.51.104.4", now.plusSeconds(3600), dev.spamtrap.core.offender.Cause.protocol("pregreet"), "it")
            .toCompletableFuture().join();
        java.util.Map<String, dev.spamtrap.core.offender.Cause> loaded = new java.util.concurrent.ConcurrentHashMap<>();
        admin.forEachViewListing(l -> {
            if (l.offender().key().startsWith("198.51.104.")) {
                loaded.put(l.offender().key(), l.offender().cause());
            }
        }).toCompletableFuture().join();
        assertThat(loaded.get("198.51.104.1")).isEqualTo(dev.spamtrap.core.offender.Cause.TRAP);
        assertThat(loaded.get("198.51.104.2")).isEqualTo(dev.spamtrap.core.offender.Cause.REPEAT);
        assertThat(loaded.get("198.51.104.3")).isEqualTo(dev.spamtrap.core.offender.Cause.MANUAL);
        assertThat(loaded.get("198.51.104.4")).isNotNull();
        assertThat(loaded.get("198.51.104.4").isProtocol()).as("protocol class after a full load").isTrue();
        assertThat(loaded.get("198.51.104.4").sensor()).isEqualTo("pregreet");
    }

    @Test
    void anEscalatedListingIsNeverShortenedByALaterHitOnAnotherNodeNorByReplays() {
        String key = "198.51.100.1";
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        // 1 h, then repeats after each listing ended: 2 h, 4 h, 8 h (the maximum), the last one active now
        TrapHit h1 = hit(key, "a1", now.minus(Duration.ofHours(10)), "node-a");
        TrapHit h2 = hit(key, "a2", now.minus(Duration.ofHours(8)), "node-a");
        TrapHit h3 = hit(key, "a3", now.minus(Duration.ofHours(5)), "node-a");
        TrapHit h4 = hit(key, "a4", now.minus(Duration.ofMinutes(30)), "node-a");
        record(nodeA, h1);
        record(nodeA, h2);
        record(nodeA, h3);
        record(nodeA, h4);
        Instant escalatedUntil = h4.at().plus(Duration.ofHours(8));
        assertThat(listing(key).getInstant("expires_at")).isEqualTo(escalatedUntil);
        assertThat(listing(key).getInt("offences")).isEqualTo(4);
        assertThat(listing(key).getInt("hit_count")).isEqualTo(4);

        // a later hit on node B (which never saw the client) while listed: counted, the 8 h end kept
        Offender afterB = record(nodeB, hit(key, "b1", now, "node-b")).get(0);
        assertThat(afterB.expiresAt()).isEqualTo(escalatedUntil);
        assertThat(listing(key).getInstant("expires_at")).isEqualTo(escalatedUntil);
        assertThat(listing(key).getInt("hit_count")).isEqualTo(5);

        // every hit replayed, on both nodes, in any order: nothing changes
        record(nodeB, h4, h1, h3, h2);
        record(nodeA, hit(key, "b1", now, "node-b"), h2);
        assertThat(listing(key).getInstant("expires_at")).isEqualTo(escalatedUntil);
        assertThat(listing(key).getInt("hit_count")).isEqualTo(5);
        assertThat(listing(key).getInt("offences")).isEqualTo(4);

        // an older hit never seen before (a spool replayed after an outage) while listed: counted, nothing shortened
        record(nodeB, hit(key, "late", now.minus(Duration.ofMinutes(20)), "node-b"));
        assertThat(listing(key).getInstant("expires_at")).isEqualTo(escalatedUntil);
        assertThat(listing(key).getInt("hit_count")).isEqualTo(6);
        assertThat(nodeA.loadActive().toCompletableFuture().join()).filteredOn(o -> o.key().equals(key))
            .extracting(Offender::expiresAt).containsExactly(escalatedUntil);
    }

    @Test
    void forgiveIsFinalForTheHitsItForgivesWhicheverNodeReplaysThem() {
        String key = "198.51.100.2";
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        TrapHit h1 = hit(key, "f1", now.minusSeconds(60), "node-a");
        TrapHit h2 = hit(key, "f2", now.minusSeconds(30), "node-b");
        record(nodeA, h1);
        record(nodeB, h2);
        assertThat(listing(key).getInt("hit_count")).isEqualTo(2);
        assertThat(admin.forgive(key).toCompletableFuture().join()).as("was listed").isTrue();
        assertThat(listing(key).getString("reason")).isEqualTo("forgiven");
        assertThat(listing(key).getInt("generation")).isEqualTo(1);

        // replays of the forgiven hits, and hits made (even after the forgive, by a fast clock) by nodes that had not
        // heard of it yet (generation 0): never listed again
        record(nodeB, h1, h2);
        record(nodeA, h2, hit(key, "f3", now.plusSeconds(30), "node-a"));
        assertThat(listing(key).getString("reason")).isEqualTo("forgiven");
        assertThat(listing(key).getInt("hit_count")).isZero();
        assertThat(admin.loadActive().toCompletableFuture().join()).extracting(Offender::key).doesNotContain(key);

        // a hit by a node that knew of the forgive lists it again, as a first offence
        TrapHit after = hit(key, "f4", now.plusSeconds(1), "node-a").withGeneration(1);
        Offender relisted = record(nodeA, after).get(0);
        assertThat(relisted.expiresAt()).isEqualTo(after.at().plus(Duration.ofHours(1)));
        assertThat(listing(key).getInt("hit_count")).isEqualTo(1);
        assertThat(listing(key).getInt("offences")).isEqualTo(1);
        // ... and old replays still change nothing
        record(nodeB, h1, h2);
        assertThat(listing(key).getInt("hit_count")).isEqualTo(1);
        assertThat(listing(key).getInstant("expires_at")).isEqualTo(after.at().plus(Duration.ofHours(1)));
    }

    @Test
    void aClientWith200000HitsCostsAHitWhatAFreshClientDoes() {
        String heavy = "198.51.100.3";
        Instant start = Instant.now().minus(Duration.ofHours(6)).truncatedTo(ChronoUnit.MILLIS);
        for (int group = 0; group < 200; group++) {
            List<TrapHit> hits = new ArrayList<>(1000);
            for (int i = 0; i < 1000; i++) {
                int n = group * 1000 + i;
                hits.add(hit(heavy, "h" + n, start.plusMillis(n * 50L), "node-a"));
            }
            nodeA.recordAll(hits).toCompletableFuture().join();
        }
        assertThat(listing(heavy).getInt("hit_count")).isEqualTo(200_000);
        long rows = SharedCassandra.cql().execute("SELECT count(*) AS n FROM " + KS + ".offenders WHERE ip = ?", heavy).one().getLong("n");
        assertThat(rows).as("evidence rows of the partition").isLessThanOrEqualTo(16);

        // what a hit costs, counted by Cassandra itself (its coordinator metrics of the offenders table): 30 hits of the
        // heavy client, then 30 of fresh clients, each one read and one write, whatever the client's history
        long[] beforeHeavy = offendersRequests();
        for (int i = 0; i < 30; i++) {
            record(nodeA, hit(heavy, "x" + i, Instant.now(), "node-a"));
        }
        long[] afterHeavy = offendersRequests();
        for (int i = 0; i < 30; i++) {
            record(nodeA, hit("198.51.101." + i, "y" + i, Instant.now(), "node-a"));
        }
        long[] afterFresh = offendersRequests();
        assertThat(new long[] {afterHeavy[0] - beforeHeavy[0], afterHeavy[1] - beforeHeavy[1]}).as("reads, writes of 30 hits of the heavy client")
            .containsExactly(30, 30);
        assertThat(new long[] {afterFresh[0] - afterHeavy[0], afterFresh[1] - afterHeavy[1]}).as("reads, writes of 30 hits of fresh clients")
            .containsExactly(30, 30);
        rows = SharedCassandra.cql().execute("SELECT count(*) AS n FROM " + KS + ".offenders WHERE ip = ?", heavy).one().getLong("n");
        assertThat(rows).as("rows a read of the heavy client returns").isLessThanOrEqualTo(16);
        assertThat(listing(heavy).getInt("hit_count")).isEqualTo(200_030);
        // each of those hits took the slot of the oldest kept: the evidence is the 16 newest, x14 to x29
        List<String> kept = new ArrayList<>();
        SharedCassandra.cql().execute("SELECT hit_id FROM " + KS + ".offenders WHERE ip = ?", heavy).forEach(r -> kept.add(r.getString("hit_id")));
        assertThat(kept).containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.range(14, 30).mapToObj(i -> "x" + i).collect(
            java.util.stream.Collectors.toList()));
    }

    /**
     * A flood spread over batches in flight together: the key's first group is stored at once, and every group of it that
     * comes while that one is in flight waits in one step, so three groups cost two reads and two writes, and all their
     * hits are counted.
     */
    @Test
    void groupsOfAKeyInFlightTogetherShareOneReadAndWrite() {
        String flood = "198.51.105.7";
        Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        long[] before = offendersRequests();
        List<java.util.concurrent.CompletableFuture<List<Offender>>> groups = new ArrayList<>();
        for (int g = 0; g < 3; g++) {
            List<TrapHit> hits = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                hits.add(hit(flood, "f" + g + "-" + i, at.plusMillis(g * 10 + i), "node-a"));
            }
            groups.add(nodeA.recordAll(hits).toCompletableFuture());
        }
        groups.forEach(java.util.concurrent.CompletableFuture::join);
        long[] after = offendersRequests();
        assertThat(new long[] {after[0] - before[0], after[1] - before[1]}).as("reads, writes of three groups of one key").containsExactly(2, 2);
        assertThat(listing(flood).getInt("hit_count")).isEqualTo(30);
        assertThat(groups.get(0).join()).extracting(Offender::hitCount).containsOnly(10);
        assertThat(groups.get(2).join()).extracting(Offender::hitCount).containsOnly(30);
    }

    @Test
    void eachWritersFeedRowsAreNumberedWithoutGapsAndReadAfterASequenceNumber() {
        String key = "198.51.100.4";
        record(nodeB, hit(key, "c1", Instant.now(), "node-b"));
        admin.forgive(key).toCompletableFuture().join();
        List<FeedSource> sources = admin.feedSources().toCompletableFuture().join();
        FeedSource b = sources.stream().filter(s -> s.writer().equals("node-b")).findFirst().orElseThrow();
        FeedSource a = sources.stream().filter(s -> s.writer().equals("admin")).findFirst().orElseThrow();
        List<Change> fromB = admin.changesAfter(b, 0).toCompletableFuture().join();
        assertThat(fromB).filteredOn(c -> c.key().equals(key)).extracting(Change::kind).containsExactly(Change.LISTED);
        long head = admin.feedHead(b).toCompletableFuture().join();
        assertThat(fromB).extracting(Change::seq).isSorted().last().isEqualTo(head);
        for (int i = 1; i < fromB.size(); i++) {
            assertThat(fromB.get(i).seq() - fromB.get(i - 1).seq()).isBetween(0L, 1L);
        }
        assertThat(admin.changesAfter(b, head).toCompletableFuture().join()).isEmpty();
        assertThat(admin.changesAfter(a, 0).toCompletableFuture().join()).filteredOn(c -> c.key().equals(key))
            .extracting(Change::kind, Change::generation).containsExactly(org.assertj.core.groups.Tuple.tuple(Change.REMOVED, 1));
    }

    @Test
    void aKeyspaceOfThePreviousVersionIsRefusedWithTheCommandThatClearsIt() {
        SharedCassandra.cql().execute("CREATE KEYSPACE IF NOT EXISTS it_model_old WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': 1}");
        SharedCassandra.cql().execute("CREATE TABLE IF NOT EXISTS it_model_old.offenders (ip text PRIMARY KEY, expires_at timestamp, hit_count int)");
        try (CassandraOffenderStore old = new CassandraOffenderStore(settings("it_model_old"), POLICY, Clock.systemUTC(), "node-a")) {
            assertThatThrownBy(old::connect).hasMessageContaining("previous spamtrap schema").hasMessageContaining("DROP KEYSPACE it_model_old");
            assertThat(old.isConnected()).isFalse();
        }
    }

    @Test
    void aKeyspaceOfAnEarlierBuildWhoseEvidenceCarriesWallClockWriteTimesIsRefused() {
        // the offenders table as the build before wrote it: evidence slots, no comment naming how its cells are written
        SharedCassandra.cql().execute("CREATE KEYSPACE IF NOT EXISTS it_model_earlier WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': 1}");
        SharedCassandra.cql().execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS it_model_earlier.offenders"
            + " (ip text, slot int, expires_at timestamp static, hit_count int static, hit_at timestamp, hit_id text, PRIMARY KEY (ip, slot))")
            .setTimeout(Duration.ofSeconds(60)));
        try (CassandraOffenderStore earlier = new CassandraOffenderStore(settings("it_model_earlier"), POLICY, Clock.systemUTC(), "node-a")) {
            assertThatThrownBy(earlier::connect).hasMessageContaining("earlier build").hasMessageContaining("DROP KEYSPACE it_model_earlier");
            assertThat(earlier.isConnected()).isFalse();
        }
        // a keyspace this version made is accepted again
        assertThat(nodeA.isConnected()).isTrue();
        try (CassandraOffenderStore again = new CassandraOffenderStore(settings(KS), POLICY, Clock.systemUTC(), "node-c")) {
            again.connect();
            assertThat(again.isConnected()).isTrue();
        }
    }
}
