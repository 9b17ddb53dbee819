package dev.spamtrap.it.tarpit;

import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.bench.TarpitConf;
import dev.spamtrap.it.stack.ImapClient;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tarpit against a real James 3.8.1 (own JVM, the drop-in jar, the sample conf with a short delay) and the
 * suite's real Cassandra (own keyspace). Timing assertions are properties with wide margins: "not before the delay" is exact (the
 * server never writes early), "a normal client takes less than half a delay" has a margin of ~30x.
 *
 * <p>The connection that checks the maximum time is opened first and checked last, so its wait overlaps
 * the other tests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TarpitIntegrationTest {
    private static final long DELAY_MS = 3_000;
    /** Replies never come early; allow 50 ms for clock granularity between the JVMs. */
    private static final long NOT_BEFORE_MS = DELAY_MS - 50;
    private static final Duration MAX_DURATION = Duration.ofSeconds(45);
    private static final int MAX_CONNECTIONS = 205;
    private static final int MAX_PER_CLIENT = 50;
    private static final String USER = "alice@example.com";

    private JamesProcess james;
    private WebAdmin webAdmin;
    private int port;

    private SmtpClient maxTimeClient;
    private long maxTimeConnectedAt;
    private final List<String> maxTimeReplies = new ArrayList<>();
    private CompletableFuture<Long> maxTimeClosedAfter;

    @BeforeAll
    void start() {
        james = JamesFixture.james("tarpit", "it_tarpit").offenderCheckAt("connect")
            .edit("webadmin.properties", TarpitConf::withMetricsRoute)
            .edit("jvm.properties", TarpitConf::withoutReverseDnsInLogContext)
            .edit("smtpserver.xml", xml -> {
                String s = TarpitConf.mode(xml, "tarpit");
                s = TarpitConf.tarpit(s, "delay", DELAY_MS + "ms");
                s = TarpitConf.tarpit(s, "maxDuration", MAX_DURATION.toSeconds() + "s");
                s = TarpitConf.tarpit(s, "maxConnections", Integer.toString(MAX_CONNECTIONS));
                return TarpitConf.tarpit(s, "maxConnectionsPerClient", Integer.toString(MAX_PER_CLIENT));
            })
            .prepare().start(JamesFixture.START);
        port = james.smtpPort();
        webAdmin = new WebAdmin(james.webAdminPort());
        webAdmin.addUser(USER, "alice");

        // The maximum-time client: an offender that keeps sending NOOP; checked by the last test.
        makeOffender("127.0.0.20");
        maxTimeClient = new SmtpClient("127.0.0.20", port, 60_000);
        maxTimeConnectedAt = System.nanoTime();
        maxTimeClosedAfter = CompletableFuture.supplyAsync(() -> {
            String r = maxTimeClient.reply();
            while (r != null) {
                synchronized (maxTimeReplies) {
                    maxTimeReplies.add(r);
                }
                try {
                    maxTimeClient.write("NOOP\r\n");
                } catch (UncheckedIOException e) {
                    break;
                }
                try {
                    r = maxTimeClient.reply();
                } catch (UncheckedIOException e) {
                    break;
                }
            }
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - maxTimeConnectedAt);
        });
    }

    @AfterAll
    void stop() {
        if (maxTimeClient != null) {
            maxTimeClient.close();
        }
        if (james != null) {
            james.close();
        }
    }

    /** A normal conversation that hits a trap: the address is an offender at once (local view). */
    private void makeOffender(String ip) {
        try (SmtpClient c = SmtpClient.connect(ip, port)) {
            assertThat(c.reply()).startsWith("220");
            assertThat(c.command("EHLO offender.test")).startsWith("250");
            assertThat(c.command("MAIL FROM:<spammer@offender.test>")).startsWith("250");
            assertThat(c.command("RCPT TO:<trap@example.com>")).startsWith("250");
            c.command("QUIT");
        }
    }

    private static long ms(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** Sends a command and returns {reply, milliseconds it took}. */
    private static Object[] timed(SmtpClient c, String line) {
        long t = System.nanoTime();
        String r = c.command(line);
        return new Object[] {r, ms(t)};
    }

    private static void assertDelayed(Object[] timedReply, String expectedStart) {
        assertThat((String) timedReply[0]).as("reply").startsWith(expectedStart);
        assertThat((Long) timedReply[1]).as("ms until the reply '" + timedReply[0] + "'").isGreaterThanOrEqualTo(NOT_BEFORE_MS);
    }

    private long metric(String name) {
        String text = webAdmin.get("/metrics");
        Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*})? ([0-9.eE+-]+)$").matcher(text);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
    }

    private long awaitMetric(String name, java.util.function.LongPredicate ok, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long v = metric(name);
        while (!ok.test(v) && System.nanoTime() < deadline) {
            sleep(100);
            v = metric(name);
        }
        return v;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    @Order(1)
    void everyReplyToAnOffenderIsDelayedAndItsMessageGetsTheRefusalNamingItsAddress() throws Exception {
        makeOffender("127.0.0.21");
        makeOffender("127.0.0.22");
        CompletableFuture<Void> quitter = CompletableFuture.runAsync(() -> {
            long t = System.nanoTime();
            try (SmtpClient c = new SmtpClient("127.0.0.22", port, 30_000)) {
                assertDelayed(new Object[] {c.reply(), ms(t)}, "220");
                assertDelayed(timed(c, "HELO offender.test"), "250");
                assertDelayed(timed(c, "NOOP"), "250");
                assertDelayed(timed(c, "QUIT"), "221");
                assertThat(c.readUntilClosed()).isEmpty();
            }
        });

        long t = System.nanoTime();
        try (SmtpClient c = new SmtpClient("127.0.0.21", port, 30_000)) {
            assertDelayed(new Object[] {c.reply(), ms(t)}, "220");
            assertDelayed(timed(c, "EHLO offender.test"), "250");
            assertDelayed(timed(c, "MAIL FROM:<spammer@offender.test>"), "250");
            assertDelayed(timed(c, "RCPT TO:<" + USER + ">"), "250");
            assertDelayed(timed(c, "RSET"), "250");
            assertDelayed(timed(c, "NOOP"), "250");
            assertDelayed(timed(c, "MAIL FROM:<spammer@offender.test>"), "250");
            assertDelayed(timed(c, "RCPT TO:<" + USER + ">"), "250");
            assertDelayed(timed(c, "DATA"), "354");
            Object[] end = timed(c, "Subject: tarpitted spam\r\n\r\nBuy now.\r\n.");
            assertDelayed(end, "450 4.7.1 ");
            assertThat((String) end[0]).contains("127.0.0.21");
            assertThat(c.readUntilClosed()).as("closed after the refusal").isEmpty();
        }
        quitter.get(60, TimeUnit.SECONDS);
        assertThat(ImapClient.inbox(james.imapPort(), USER, "alice")).doesNotContain("tarpitted spam");
    }

    @Test
    @Order(2)
    void aPipeliningOffenderGetsNoReplyEarly() {
        makeOffender("127.0.0.23");
        long t = System.nanoTime();
        try (SmtpClient c = new SmtpClient("127.0.0.23", port, 30_000)) {
            c.write("EHLO offender.test\r\nMAIL FROM:<spammer@offender.test>\r\nRCPT TO:<" + USER + ">\r\nDATA\r\n");
            String[] expected = {"220", "250", "250", "250", "354"};
            for (int i = 0; i < expected.length; i++) {
                String r = c.reply();
                long at = ms(t);
                assertThat(r).startsWith(expected[i]);
                assertThat(at).as("reply %d ('%s') at %d ms", i, r, at).isGreaterThanOrEqualTo((i + 1) * DELAY_MS - 50);
            }
            c.write("Subject: pipelined spam\r\n\r\nBuy now.\r\n.\r\n");
            String last = c.reply();
            assertThat(last).startsWith("450 4.7.1 ").contains("127.0.0.23");
            assertThat(ms(t)).isGreaterThanOrEqualTo(6 * DELAY_MS - 50);
            assertThat(c.readUntilClosed()).isEmpty();
        }
        assertThat(ImapClient.inbox(james.imapPort(), USER, "alice")).doesNotContain("pipelined spam");
    }

    @Test
    @Order(3)
    void normalClientIsUnaffectedBy200TarpittedConnectionsAndCapacityGuardsRefuseAtOnce() {
        String[] loadAddresses = {"127.0.0.30", "127.0.0.31", "127.0.0.32", "127.0.0.33"};
        for (String a : loadAddresses) {
            makeOffender(a);
        }
        makeOffender("127.0.0.34");
        long activeBefore = awaitMetric("spamtrap_tarpit_active", v -> v >= 0, Duration.ofSeconds(5));
        List<SmtpClient> load = new ArrayList<>();
        try {
            for (String a : loadAddresses) {
                for (int i = 0; i < MAX_PER_CLIENT; i++) {
                    load.add(new SmtpClient(a, port, 30_000));
                }
            }
            long active = awaitMetric("spamtrap_tarpit_active", v -> v >= activeBefore + 200, Duration.ofSeconds(20));
            assertThat(active).as("tarpitted now").isGreaterThanOrEqualTo(activeBefore + 200);

            // A normal client from another address: whole delivery, several times, each well under half a delay.
            for (int i = 0; i < 3; i++) {
                long t = System.nanoTime();
                List<String> replies = SmtpClient.deliver("127.0.0.200", port, "friend@partner.test", List.of(USER), "legit mail " + i);
                long took = ms(t);
                assertThat(replies.get(0)).startsWith("220");
                assertThat(replies.get(replies.size() - 2)).as("reply after the final dot").startsWith("250");
                assertThat(took).as("normal conversation (ms) with 200 tarpitted connections open").isLessThan(DELAY_MS / 2);
            }

            // Per-client guard: the 51st connection from 127.0.0.30 is refused at once and closed.
            long refusedBefore = metric("spamtrap_tarpit_refused_full_total");
            long t = System.nanoTime();
            try (SmtpClient extra = new SmtpClient("127.0.0.30", port, 30_000)) {
                String r = extra.reply();
                assertThat(ms(t)).isLessThan(DELAY_MS / 2);
                assertThat(r).startsWith("450 4.7.1 ").contains("127.0.0.30");
                assertThat(extra.readUntilClosed()).isEmpty();
            }

            // Node guard: fill up to maxConnections from 127.0.0.34; the next is refused at once.
            int opened = 0;
            String refusal = null;
            while (refusal == null && opened < MAX_CONNECTIONS) {
                SmtpClient c = new SmtpClient("127.0.0.34", port, 1_000);
                load.add(c);
                long t2 = System.nanoTime();
                try {
                    String r = c.reply();
                    assertThat(ms(t2)).isLessThan(DELAY_MS / 2);
                    refusal = r;
                } catch (UncheckedIOException e) {
                    assertThat(e.getCause()).isInstanceOf(SocketTimeoutException.class);
                    opened++;
                }
            }
            assertThat(refusal).startsWith("450 4.7.1 ").contains("127.0.0.34");
            assertThat(metric("spamtrap_tarpit_active")).isEqualTo(MAX_CONNECTIONS);
            assertThat(metric("spamtrap_tarpit_refused_full_total")).isEqualTo(refusedBefore + 2);
        } finally {
            load.forEach(SmtpClient::close);
        }
        long attackerSeconds = awaitMetric("spamtrap_tarpit_attacker_seconds_total", v -> v >= 200, Duration.ofSeconds(20));
        assertThat(attackerSeconds).as("attacker-seconds after 200 connections held > 1 s each").isGreaterThanOrEqualTo(200);
        assertThat(awaitMetric("spamtrap_tarpit_active", v -> v <= 1, Duration.ofSeconds(20))).as("only the max-time client left").isLessThanOrEqualTo(1);
        assertThat(metric("spamtrap_tarpit_connections_total")).isGreaterThanOrEqualTo(200 + 4);
        assertThat(ImapClient.inbox(james.imapPort(), USER, "alice")).contains("legit mail 0", "legit mail 1", "legit mail 2");
    }

    @Test
    @Order(4)
    void theMaximumTimeClosesTheConnectionWithTheRefusal() throws Exception {
        long closedAfter = maxTimeClosedAfter.get(MAX_DURATION.toSeconds() + 30, TimeUnit.SECONDS);
        List<String> replies;
        synchronized (maxTimeReplies) {
            replies = new ArrayList<>(maxTimeReplies);
        }
        assertThat(closedAfter).as("ms until closed").isBetween(MAX_DURATION.toMillis() - 50, MAX_DURATION.toMillis() + DELAY_MS + 2_000);
        assertThat(replies.get(0)).startsWith("220");
        assertThat(replies.get(replies.size() - 1)).startsWith("450 4.7.1 ").contains("127.0.0.20");
        // one NOOP answered per delay: about maxDuration / delay replies, never more
        assertThat(replies.size()).isLessThanOrEqualTo((int) (MAX_DURATION.toMillis() / DELAY_MS) + 1);
    }
}
