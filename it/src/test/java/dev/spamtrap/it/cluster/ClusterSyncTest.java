package dev.spamtrap.it.cluster;

import com.datastax.oss.driver.api.core.cql.Row;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.store.CassandraOffenderStore;
import dev.spamtrap.core.store.CassandraSettings;
import dev.spamtrap.core.store.HitSpool;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.it.Await;
import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.SmtpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shared store on a real three-node Cassandra cluster (replication 3) with two James nodes: hits and
 * removals reach the other node through the change feed; a Cassandra node killed mid-flood loses no hit
 * and mail keeps flowing; a James node killed (SIGKILL) mid-flood replays its spool once restarted,
 * counting each hit once; a hand-written row without expires_at breaks nothing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterSyncTest {
    private static ClusterStack stack;

    @BeforeAll
    static void start() {
        stack = new ClusterStack().start();
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    private static String trapRcpt(String client, JamesProcess james) {
        return JamesFixture.rcptReply(client, james.smtpPort(), "trap@example.com");
    }

    private static boolean refused(String client, JamesProcess james) {
        return JamesFixture.connectionAnswer(client, james.smtpPort()).get(0).startsWith("450 ");
    }

    /** The hits counted in {@code key}'s listing (0 when it has none). */
    static long hitRows(String key) {
        Row r = stack.cql().execute("SELECT hit_count FROM " + ClusterStack.KS + ".offenders WHERE ip = ?", key).one();
        return r == null || r.isNull("hit_count") ? 0 : r.getInt("hit_count");
    }

    @Test
    @Order(1)
    void aHitOnAIsRefusedOnBAndAnAdministratorsRemovalReachesBoth() {
        String client = "127.0.0.50";
        assertThat(refused(client, stack.jamesB)).isFalse();
        assertThat(trapRcpt(client, stack.jamesA)).startsWith("250");
        long hitAt = System.nanoTime();
        Await.until(Duration.ofSeconds(20), "B refuses the client A recorded", () -> refused(client, stack.jamesB), x -> x);
        System.out.printf("propagation A->B: %d ms%n", (System.nanoTime() - hitAt) / 1_000_000);

        // The administrator's removal (what SpamtrapAdmin.forgive does) through the store API.
        CassandraSettings settings = new CassandraSettings(List.of(new InetSocketAddress("127.0.0.11", stack.nativePort)), "datacenter1",
            ClusterStack.KS, 3, Duration.ofSeconds(10), Optional.empty(), Optional.empty());
        try (CassandraOffenderStore admin = new CassandraOffenderStore(settings,
                new OffenderPolicy(Duration.ofHours(24), Duration.ofDays(7), Duration.ofDays(30)), Clock.systemUTC())) {
            admin.connect();
            admin.remove(client).toCompletableFuture().join();
        }
        long removedAt = System.nanoTime();
        Await.until(Duration.ofSeconds(20), "A accepts the forgiven client", () -> refused(client, stack.jamesA), x -> !x);
        Await.until(Duration.ofSeconds(20), "B accepts the forgiven client", () -> refused(client, stack.jamesB), x -> !x);
        System.out.printf("removal to both nodes: %d ms%n", (System.nanoTime() - removedAt) / 1_000_000);
    }

    /** Within this, a change made on one node is applied on the other (sync.interval is 500 ms). */
    static final Duration PROPAGATION = Duration.ofSeconds(5);

    @Test
    @Order(1)
    void listingsAndRemovalsOfANodeWhoseClockIs10SecondsBehindReachTheOtherNode() {
        String client = "127.0.0.52";
        assertThat(refused(client, stack.jamesA)).isFalse();
        assertThat(trapRcpt(client, stack.jamesB)).startsWith("250");
        long hitAt = System.nanoTime();
        Await.until(PROPAGATION, "A refuses the client B (10 s behind) recorded", () -> refused(client, stack.jamesA), x -> x);
        System.out.printf("propagation B (clock %s) -> A: %d ms%n", ClusterStack.B_CLOCK, (System.nanoTime() - hitAt) / 1_000_000);
        // forgiven on B, through B's WebAdmin: its removal reaches A
        assertThat(new dev.spamtrap.it.stack.WebAdmin(stack.jamesB.webAdminPort()).request("DELETE", "/spamtrap/offenders/" + client, "")
            .statusCode()).isEqualTo(204);
        long removedAt = System.nanoTime();
        Await.until(PROPAGATION, "A accepts the client forgiven on B", () -> refused(client, stack.jamesA), x -> !x);
        Await.until(PROPAGATION, "B accepts the client forgiven on B", () -> refused(client, stack.jamesB), x -> !x);
        System.out.printf("removal B -> A: %d ms%n", (System.nanoTime() - removedAt) / 1_000_000);
    }

    /** A's WebAdmin's listing end for {@code key}. */
    private static java.time.Instant webAdminEnd(JamesProcess james, String key) {
        String body = new dev.spamtrap.it.stack.WebAdmin(james.webAdminPort()).get("/spamtrap/offenders/" + key);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"expiresAt\"\\s*:\\s*\"([^\"]+)\"").matcher(body);
        assertThat(m.find()).as("expiresAt in " + body).isTrue();
        return java.time.Instant.parse(m.group(1));
    }

    /**
     * A client listed before (its first listing ended, still remembered) hits a trap on B, whose clock is 10 s behind: B
     * escalates it to 48 h, and A refuses it for 48 h too (its refusal, its WebAdmin, the row: hit_count 2, offences 2);
     * a later hit on A (on a connection A opened before it learnt of the listing) is counted and keeps the end.
     */
    @Test
    @Order(1)
    void anEscalationMadeOnTheNodeWhoseClockIsBehindReachesTheOtherNodeAndALaterHitThereKeepsIt() {
        String client = "127.0.0.54";
        Duration escalated = Duration.ofHours(48);
        CassandraSettings settings = new CassandraSettings(List.of(new InetSocketAddress("127.0.0.11", stack.nativePort)), "datacenter1",
            ClusterStack.KS, 3, Duration.ofSeconds(10), Optional.empty(), Optional.empty());
        // its first offence 30 h ago (the nodes' policy: 24 h, doubling, history 30 days): listed until 6 h ago
        try (CassandraOffenderStore history = new CassandraOffenderStore(settings,
                new OffenderPolicy(Duration.ofHours(24), Duration.ofDays(3), Duration.ofDays(30)), Clock.systemUTC(), "it-history")) {
            history.connect();
            history.recordAll(List.of(new TrapHit("history-1", client, client, java.time.Instant.now().minus(Duration.ofHours(30)),
                "trap@example.com", "bot.test", "bot@spam.test", "it-history"))).toCompletableFuture().join();
        }
        assertThat(hitRows(client)).isEqualTo(1);
        assertThat(refused(client, stack.jamesA)).as("the expired first listing refuses nobody").isFalse();
        // a connection to A opened before the escalation, its MAIL FROM accepted: its trap RCPT comes later
        try (SmtpClient onA = new SmtpClient(client, stack.jamesA.smtpPort(), 30_000)) {
            assertThat(onA.reply()).startsWith("220");
            onA.command("EHLO bot.test");
            assertThat(onA.command("MAIL FROM:<bot@spam.test>")).startsWith("250");

            assertThat(trapRcpt(client, stack.jamesB)).startsWith("250");
            long hitAt = System.nanoTime();
            String refusal = Await.until(PROPAGATION, "A refuses the client B escalated",
                () -> JamesFixture.connectionAnswer(client, stack.jamesA.smtpPort()).get(0), r -> r.startsWith("450 "));
            System.out.printf("escalation B (clock %s) -> A: %d ms%n", ClusterStack.B_CLOCK, (System.nanoTime() - hitAt) / 1_000_000);
            assertThat(refusal).as("A's refusal names the escalated lifetime")
                .contains("within the last " + dev.spamtrap.core.config.Durations.human(escalated));
            Row r = stack.cql().execute("SELECT hit_count, offences, listed_at, expires_at FROM " + ClusterStack.KS + ".offenders WHERE ip = ?",
                client).one();
            assertThat(r.getInt("hit_count")).isEqualTo(2);
            assertThat(r.getInt("offences")).isEqualTo(2);
            java.time.Instant end = r.getInstant("expires_at");
            assertThat(Duration.between(r.getInstant("listed_at"), end)).as("B's listing").isEqualTo(escalated);
            assertThat(webAdminEnd(stack.jamesA, client)).as("A's WebAdmin").isEqualTo(end);

            // A later hit on A while listed (A's clock 10 s ahead of B's): counted, the 48 h end kept
            assertThat(onA.command("RCPT TO:<trap@example.com>")).startsWith("250");
            onA.command("QUIT");
            Await.until(Duration.ofSeconds(30), "A's hit stored", () -> hitRows(client), n -> n == 3);
            Row after = stack.cql().execute("SELECT offences, expires_at FROM " + ClusterStack.KS + ".offenders WHERE ip = ?", client).one();
            assertThat(after.getInstant("expires_at")).as("the end after A's later hit").isEqualTo(end);
            assertThat(after.getInt("offences")).isEqualTo(2);
            assertThat(webAdminEnd(stack.jamesA, client)).isEqualTo(end);
            assertThat(webAdminEnd(stack.jamesB, client)).isEqualTo(end);
            assertThat(JamesFixture.connectionAnswer(client, stack.jamesA.smtpPort()).get(0))
                .contains("within the last " + dev.spamtrap.core.config.Durations.human(escalated));
        }
    }

    private static void feedRow(String writer, java.util.UUID epoch, long seq, String kind, String key, long expiresMillis) {
        stack.cql().execute("INSERT INTO " + ClusterStack.KS + ".feed_writers (ring, writer, epoch) VALUES (0, ?, ?) USING TTL 7200", writer, epoch);
        stack.cql().execute("INSERT INTO " + ClusterStack.KS + ".feed (writer, epoch, seq, changes) VALUES (?, ?, ?, [('" + kind + "', '" + key
            + "', " + expiresMillis + ", 0)])", writer, epoch, seq);
    }

    /**
     * A feed row that lands 20 s after it was made (a slow or paused writer, a clock behind) is applied when it lands; a
     * row that lands before an earlier one waits for it, then both are applied.
     */
    @Test
    @Order(2)
    void aFeedRowLanding20SecondsLateIsStillAppliedAndALaterOneWaitsForIt() throws Exception {
        java.util.UUID epoch = com.datastax.oss.driver.api.core.uuid.Uuids.timeBased();
        long madeAt = System.currentTimeMillis();
        feedRow("late-writer", epoch, 1, "listed", "127.0.0.60", madeAt + 3_600_000);
        Await.until(PROPAGATION, "A applies row 1", () -> refused("127.0.0.60", stack.jamesA), x -> x);
        Await.until(PROPAGATION, "B applies row 1", () -> refused("127.0.0.60", stack.jamesB), x -> x);
        Thread.sleep(20_000);
        // made 20 s ago, lands now
        feedRow("late-writer", epoch, 2, "listed", "127.0.0.61", madeAt + 3_600_000);
        Await.until(PROPAGATION, "A applies row 2, 20 s late", () -> refused("127.0.0.61", stack.jamesA), x -> x);
        Await.until(PROPAGATION, "B applies row 2, 20 s late", () -> refused("127.0.0.61", stack.jamesB), x -> x);
        // row 4 lands before row 3
        feedRow("late-writer", epoch, 4, "listed", "127.0.0.63", madeAt + 3_600_000);
        Thread.sleep(2_000);
        assertThat(refused("127.0.0.63", stack.jamesA)).as("row 4 waits for row 3").isFalse();
        feedRow("late-writer", epoch, 3, "removed", "127.0.0.60", 0);
        Await.until(PROPAGATION, "A applies rows 3 and 4", () -> refused("127.0.0.63", stack.jamesA) && !refused("127.0.0.60", stack.jamesA),
            x -> x);
        Await.until(PROPAGATION, "B applies rows 3 and 4", () -> refused("127.0.0.63", stack.jamesB) && !refused("127.0.0.60", stack.jamesB),
            x -> x);
    }

    @Test
    @Order(3)
    void aRowWithoutExpiryWrittenByHandBreaksNothing() {
        stack.cql().execute("INSERT INTO " + ClusterStack.KS + ".offenders (ip, trap) VALUES ('127.0.0.77', 'by-hand')");
        stack.cql().execute("INSERT INTO " + ClusterStack.KS + ".offenders (ip, expires_at) VALUES ('not-an-address', toTimestamp(now()))");
        stack.cql().execute("INSERT INTO " + ClusterStack.KS + ".feed_writers (ring, writer, epoch) VALUES (0, 'by-hand', now()) USING TTL 7200");
        java.util.UUID epoch = stack.cql().execute("SELECT epoch FROM " + ClusterStack.KS + ".feed_writers WHERE ring = 0 AND writer = 'by-hand'")
            .one().getUuid("epoch");
        stack.cql().execute("INSERT INTO " + ClusterStack.KS + ".feed (writer, epoch, seq, changes) VALUES ('by-hand', ?, 1, [('listed', '127.0.0.77', null, 0)])",
            epoch);
        String client = "127.0.0.51";
        assertThat(trapRcpt(client, stack.jamesB)).startsWith("250");
        Await.until(Duration.ofSeconds(20), "A still syncs after the bad rows", () -> refused(client, stack.jamesA), x -> x);
        assertThat(refused("127.0.0.77", stack.jamesA)).as("a row without expiry lists nobody").isFalse();
        // the by-hand writer is a new one: A finds it at its next read of feed_writers (at most once a second), maybe after B's rows
        Await.until(Duration.ofSeconds(20), "A logs the by-hand row it skipped", () -> stack.jamesA.log(),
            log -> log.contains("feed: row by-hand/") && log.contains("no expires_at"));
    }

    /** One delivery per client address (a trap plus a real mailbox), on alternating nodes; returns the clients whose trap RCPT got 250. */
    private static List<String> flood(List<String> clients, List<JamesProcess> nodes, Runnable midway) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<String> accepted = Collections.synchronizedList(new ArrayList<>());
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        try {
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < clients.size(); i++) {
                String client = clients.get(i);
                JamesProcess node = nodes.get(i % nodes.size());
                all.add(pool.submit(() -> {
                    try {
                        List<String> replies = SmtpClient.deliver(client, node.smtpPort(), "bot@spam.test",
                            List.of("trap@example.com", "alice@example.com"), "flood");
                        if (replies.stream().allMatch(r -> r != null && r.matches("(?s)^[23]\\d\\d.*"))) {
                            accepted.add(client);
                        } else {
                            failures.add(client + " " + replies);
                        }
                    } catch (RuntimeException e) {
                        failures.add(client + " " + e);
                    }
                }));
                if (i == clients.size() / 2) {
                    midway.run();
                }
            }
            for (Future<?> f : all) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(failures).as("deliveries not answered 2xx/3xx").isEmpty();
        return new ArrayList<>(accepted);
    }

    @Test
    @Order(4)
    void aCassandraNodeKilledMidFloodLosesNoHitAndMailKeepsFlowing() throws Exception {
        List<String> clients = new ArrayList<>();
        for (int i = 1; i <= 120; i++) {
            clients.add("127.1.0." + i);
        }
        List<String> accepted = flood(clients, List.of(stack.jamesA, stack.jamesB), () -> stack.cassandra.get(2).kill());
        assertThat(accepted).as("every delivery answered 2xx/3xx while a Cassandra node died").hasSize(clients.size());
        for (String c : clients) {
            Await.until(Duration.ofSeconds(60), "hit of " + c + " stored", () -> hitRows(c), n -> n >= 1);
            assertThat(hitRows(c)).as("hit of " + c + " counted once").isEqualTo(1);
        }
        stack.cassandra.get(2).start(ClusterStack.START);
    }

    @Test
    @Order(5)
    void aJamesNodeKilledMidFloodReplaysItsSpoolOnceAfterRestart() throws Exception {
        List<String> clients = new ArrayList<>();
        for (int i = 1; i <= 150; i++) {
            clients.add("127.2.0." + i);
        }
        long[] killedAt = new long[1];
        Map<String, Long> answeredAt = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < clients.size(); i++) {
                String client = clients.get(i);
                all.add(pool.submit(() -> {
                    try {
                        if (trapRcpt(client, stack.jamesA).startsWith("250")) {
                            answeredAt.put(client, System.nanoTime());
                        }
                    } catch (RuntimeException e) {
                        // the node died under this client: expected for some
                    }
                }));
                if (i == clients.size() / 2) {
                    // mid flood: some hits answered (on a loaded machine the first answers can take longer than a fixed pause)
                    Await.until(Duration.ofSeconds(30), "A answered hits before the kill", answeredAt::size, n -> n >= 10);
                    Thread.sleep(500);
                    killedAt[0] = System.nanoTime();
                    stack.jamesA.kill();
                }
            }
            for (Future<?> f : all) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        List<TrapHit> spooled;
        try (HitSpool spool = new HitSpool(stack.jamesA.root().resolve("var/spamtrap"), Long.MAX_VALUE)) {
            spooled = spool.readAll();
        }
        System.out.printf("James A killed with %d unconfirmed hit(s) in its spool%n", spooled.size());
        // While A is down, B (its clock 10 s behind A's) forgives some of the clients whose hits sit in A's spool, and one
        // more whose hit (made on A a moment ago) never left A's spool: their hits, replayed by A, must not list them again.
        String spooledOnly = "127.2.1.1";
        try (HitSpool spool = new HitSpool(stack.jamesA.root().resolve("var/spamtrap"), Long.MAX_VALUE)) {
            spool.append(List.of(new TrapHit("killed-a-1", spooledOnly, spooledOnly, java.time.Instant.now().minusSeconds(2), "trap@example.com",
                "bot.test", "bot@spam.test", "it-cluster-a")));
        }
        assertThat(trapRcpt(spooledOnly, stack.jamesB)).startsWith("250");
        Await.until(Duration.ofSeconds(20), "B's hit of " + spooledOnly + " stored", () -> hitRows(spooledOnly), n -> n == 1);
        Set<String> forgiven = new java.util.TreeSet<>();
        forgiven.add(spooledOnly);
        spooled.stream().map(TrapHit::key).filter(k -> !k.equals(clients.get(0))).limit(10).forEach(forgiven::add);
        dev.spamtrap.it.stack.WebAdmin adminB = new dev.spamtrap.it.stack.WebAdmin(stack.jamesB.webAdminPort());
        for (String key : forgiven) {
            // 204 when it was listed, 404 when its hit never reached the store: forgiven (generation 1) either way
            assertThat(adminB.request("DELETE", "/spamtrap/offenders/" + key, "").statusCode()).isIn(204, 404);
        }
        stack.jamesA.start(ClusterStack.START);
        Set<String> spooledKeys = spooled.stream().map(TrapHit::key).collect(Collectors.toSet());
        spooledKeys.removeAll(forgiven);
        for (String key : spooledKeys) {
            Await.until(Duration.ofSeconds(60), "spooled hit of " + key + " stored", () -> hitRows(key), n -> n >= 1);
        }
        Await.until(Duration.ofSeconds(60), "A replayed its spool, the forgiven hits ignored", () -> stack.jamesA.log(),
            log -> log.contains("Offender " + spooledOnly + ": 1 hit(s) made before their node knew of its forgive ignored"));
        for (String key : forgiven) {
            Row r = stack.cql().execute("SELECT reason, hit_count, generation FROM " + ClusterStack.KS + ".offenders WHERE ip = ?", key).one();
            assertThat(r.getString("reason")).as(key + " stays forgiven after A replayed its spool").isEqualTo("forgiven");
            assertThat(r.getInt("hit_count")).as(key + " hits counted after the forgive").isZero();
            assertThat(r.getInt("generation")).isEqualTo(1);
            Await.until(Duration.ofSeconds(30), "A accepts forgiven " + key, () -> refused(key, stack.jamesA), x -> !x);
            assertThat(refused(key, stack.jamesB)).as("B accepts forgiven " + key).isFalse();
        }
        // Hits answered well before the kill had time for their group commit: all must be stored.
        for (Map.Entry<String, Long> e : answeredAt.entrySet()) {
            if (!forgiven.contains(e.getKey()) && killedAt[0] - e.getValue() > TimeUnit.MILLISECONDS.toNanos(500)) {
                Await.until(Duration.ofSeconds(60), "hit of " + e.getKey() + " stored", () -> hitRows(e.getKey()), n -> n >= 1);
            }
        }
        for (String c : clients) {
            assertThat(hitRows(c)).as("hit of " + c + " counted at most once").isLessThanOrEqualTo(1);
            if (!forgiven.contains(c) && hitRows(c) == 1) {
                Row r = stack.cql().execute("SELECT expires_at, first_hit FROM " + ClusterStack.KS + ".offenders WHERE ip = ?", c).one();
                assertThat(Duration.between(r.getInstant("first_hit"), r.getInstant("expires_at"))).as("listing of " + c).isEqualTo(Duration.ofHours(24));
            }
        }
        // the first client answered (at least 500 ms before the kill: its hit was durable), not one of those forgiven
        String recorded = answeredAt.entrySet().stream().filter(e -> !forgiven.contains(e.getKey())).min(Map.Entry.comparingByValue())
            .map(Map.Entry::getKey).orElseThrow();
        Row row = Await.until(Duration.ofSeconds(30), "A refuses a client it recorded before the kill",
            () -> stack.cql().execute("SELECT ip FROM " + ClusterStack.KS + ".offenders WHERE ip = ?", recorded).one(), r -> r != null);
        assertThat(refused(row.getString("ip"), stack.jamesA)).isTrue();
        // The restart's full load met the hand-written row without expires_at: skipped, logged, nothing else lost.
        assertThat(stack.jamesA.log()).contains("row 127.0.0.77 skipped");
    }
}
