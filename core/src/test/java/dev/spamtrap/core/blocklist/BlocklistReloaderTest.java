package dev.spamtrap.core.blocklist;

import com.sun.net.httpserver.HttpServer;
import dev.spamtrap.core.SettableClock;
import dev.spamtrap.core.offender.ActiveListing;
import dev.spamtrap.core.offender.Cause;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

class BlocklistReloaderTest {
    private static final Instant T0 = Instant.parse("2026-12-06T20:00:00Z");
    private final SettableClock clock = new SettableClock(T0);
    private HttpServer http;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (http != null) {
            http.stop(0);
        }
    }

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    private BlocklistSettings settings(String name, String url, BlocklistSettings.Action action) {
        return new BlocklistSettings(name, BlocklistSource.of(url, dir, Duration.ofSeconds(5)), "Your address %A is in the " + name + " list",
            Duration.ofHours(1), action);
    }

    private void write(Path file, String text, long modifiedMillis) throws Exception {
        Files.writeString(file, text);
        Files.setLastModifiedTime(file, FileTime.fromMillis(modifiedMillis));
    }

    @Test
    void aFileListLoadsAtOnceAndAgainOnlyWhenDueAndChanged() throws Exception {
        Path f = dir.resolve("nixspam.txt");
        write(f, "192.0.2.7\n", 1_000);
        Blocklists lists = Blocklists.manual(List.of(settings("nixspam", f.toString(), BlocklistSettings.Action.REFUSE)), clock);
        Blocklist l = lists.named("nixspam").orElseThrow();
        assertThat(l.contains(ip("192.0.2.7"))).isFalse(); // nothing loaded yet
        assertThat(lists.reloader().runDue()).isEqualTo(1);
        assertThat(l.contains(ip("192.0.2.7"))).isTrue();
        assertThat(l.loaded().entries()).isEqualTo(1);
        assertThat(l.loaded().at()).contains(T0);

        write(f, "192.0.2.8\n", 2_000);
        clock.set(T0.plus(Duration.ofMinutes(59)));
        assertThat(lists.reloader().runDue()).isZero(); // not due yet: the old list stays
        assertThat(l.contains(ip("192.0.2.7"))).isTrue();

        clock.set(T0.plus(Duration.ofHours(1)));
        assertThat(lists.reloader().runDue()).isEqualTo(1);
        assertThat(l.contains(ip("192.0.2.7"))).as("an entry goes with the load that no longer has it").isFalse();
        assertThat(l.contains(ip("192.0.2.8"))).isTrue();

        // unchanged file (same size and time): not parsed again, the load time stays
        clock.set(T0.plus(Duration.ofHours(2)));
        assertThat(lists.reloader().runDue()).isEqualTo(1);
        assertThat(l.loaded().at()).contains(T0.plus(Duration.ofHours(1)));
        assertThat(l.lastAttempt()).contains(T0.plus(Duration.ofHours(2)));
        assertThat(l.lastError()).isEmpty();

        // touched, same text: read again, found the same, the list in use stays
        write(f, "192.0.2.8\n", 9_000);
        clock.set(T0.plus(Duration.ofHours(3)));
        assertThat(lists.reloader().runDue()).isEqualTo(1);
        assertThat(l.loaded().at()).contains(T0.plus(Duration.ofHours(1)));
        assertThat(l.lastAttempt()).contains(T0.plus(Duration.ofHours(3)));
    }

    @Test
    void aFailedFetchKeepsTheListInUseAndIsRetriedSooner() throws Exception {
        Path f = dir.resolve("uatraps.txt");
        write(f, "198.51.100.0/24\n", 1_000);
        Blocklists lists = Blocklists.manual(List.of(settings("uatraps", f.toString(), BlocklistSettings.Action.REFUSE)), clock);
        Blocklist l = lists.named("uatraps").orElseThrow();
        lists.reloader().runDue();
        assertThat(l.contains(ip("198.51.100.9"))).isTrue();

        Files.delete(f);
        clock.set(T0.plus(Duration.ofHours(1)));
        lists.reloader().runDue();
        assertThat(l.contains(ip("198.51.100.9"))).as("the list in use is kept").isTrue();
        assertThat(l.loadFailures()).isEqualTo(1);
        assertThat(l.lastError()).get().asString().contains("no such file");
        assertThat(l.loaded().at()).contains(T0);

        // retried after 5 minutes, not after the hour
        write(f, "198.51.100.0/24\n203.0.113.1\n", 3_000);
        clock.set(T0.plus(Duration.ofMinutes(64)));
        assertThat(lists.reloader().runDue()).isZero();
        clock.set(T0.plus(Duration.ofMinutes(65)));
        assertThat(lists.reloader().runDue()).isEqualTo(1);
        assertThat(l.contains(ip("203.0.113.1"))).isTrue();
        assertThat(l.lastError()).isEmpty();
        assertThat(l.loadFailures()).isEqualTo(1);
    }

    @Test
    void aListWithTooManyBadLinesIsRefusedAndTheOldOneKept() throws Exception {
        Path f = dir.resolve("l.txt");
        write(f, "192.0.2.1\n", 1_000);
        Blocklists lists = Blocklists.manual(List.of(settings("l", f.toString(), BlocklistSettings.Action.REFUSE)), clock);
        Blocklist l = lists.named("l").orElseThrow();
        lists.reloader().runDue();
        write(f, "<html>\n<title>502 Bad Gateway</title>\n</html>\n", 2_000);
        assertThat(lists.reloader().reloadNow(l)).isFalse();
        assertThat(l.contains(ip("192.0.2.1"))).isTrue();
        assertThat(l.lastError()).get().asString().contains("l.txt:1:");
    }

    private AtomicReference<byte[]> serve(AtomicInteger bodies, AtomicInteger status, boolean gzip) throws Exception {
        AtomicReference<byte[]> body = new AtomicReference<>();
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/list.txt", ex -> {
            byte[] b = body.get();
            String etag = "\"" + java.util.Arrays.hashCode(b) + "\"";
            if (status.get() != 200) {
                ex.sendResponseHeaders(status.get(), -1);
            } else if (etag.equals(ex.getRequestHeaders().getFirst("If-None-Match"))) {
                ex.sendResponseHeaders(304, -1);
            } else {
                bodies.incrementAndGet();
                byte[] out = b;
                if (gzip) {
                    ByteArrayOutputStream z = new ByteArrayOutputStream();
                    try (GZIPOutputStream g = new GZIPOutputStream(z)) {
                        g.write(b);
                    }
                    out = z.toByteArray();
                }
                ex.getResponseHeaders().add("ETag", etag);
                ex.sendResponseHeaders(200, out.length);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(out);
                }
            }
            ex.close();
        });
        http.start();
        return body;
    }

    private String url() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/list.txt";
    }

    @Test
    void anHttpListIsAskedConditionallyAndAnHttpErrorKeepsTheListInUse() throws Exception {
        AtomicInteger bodies = new AtomicInteger();
        AtomicInteger status = new AtomicInteger(200);
        AtomicReference<byte[]> body = serve(bodies, status, false);
        body.set("192.0.2.7\n2001:db8::/32\n".getBytes(StandardCharsets.US_ASCII));
        Blocklists lists = Blocklists.manual(List.of(settings("nixspam", url(), BlocklistSettings.Action.REFUSE)), clock);
        Blocklist l = lists.named("nixspam").orElseThrow();
        lists.reloader().runDue();
        assertThat(l.contains(ip("192.0.2.7"))).isTrue();
        assertThat(l.contains(ip("2001:db8:5::1"))).isTrue();
        assertThat(bodies.get()).isEqualTo(1);

        clock.set(T0.plus(Duration.ofHours(1)));
        lists.reloader().runDue();
        assertThat(bodies.get()).as("304: not sent again").isEqualTo(1);
        assertThat(l.lastError()).isEmpty();

        status.set(503);
        clock.set(T0.plus(Duration.ofHours(2)));
        lists.reloader().runDue();
        assertThat(l.contains(ip("192.0.2.7"))).isTrue();
        assertThat(l.lastError()).get().asString().contains("HTTP 503");
        assertThat(l.loadFailures()).isEqualTo(1);

        status.set(200);
        body.set("192.0.2.8\n".getBytes(StandardCharsets.US_ASCII));
        clock.set(T0.plus(Duration.ofHours(2)).plus(Duration.ofMinutes(5)));
        lists.reloader().runDue();
        assertThat(l.contains(ip("192.0.2.7"))).isFalse();
        assertThat(l.contains(ip("192.0.2.8"))).isTrue();
        assertThat(bodies.get()).isEqualTo(2);
    }

    @Test
    void aGzippedListIsReadAsSpamdSetupReadsIt() throws Exception {
        AtomicReference<byte[]> body = serve(new AtomicInteger(), new AtomicInteger(200), true);
        body.set("203.0.113.0/24\n".getBytes(StandardCharsets.US_ASCII));
        Blocklists lists = Blocklists.manual(List.of(settings("gz", url(), BlocklistSettings.Action.REFUSE)), clock);
        lists.reloader().runDue();
        assertThat(lists.named("gz").orElseThrow().contains(ip("203.0.113.200"))).isTrue();
    }

    @Test
    void aListedClientGetsItsListsCauseUnlessItsOwnListingIsActedOn() throws Exception {
        Path a = dir.resolve("a.txt");
        Path b = dir.resolve("b.txt");
        write(a, "192.0.2.1\n", 1_000);
        write(b, "192.0.2.1\n192.0.2.2\n", 1_000);
        Blocklists lists = Blocklists.manual(List.of(settings("watch", a.toString(), BlocklistSettings.Action.OBSERVE),
            settings("nixspam", b.toString(), BlocklistSettings.Action.REFUSE)), clock);
        lists.reloader().runDue();

        Optional<ActiveListing> none = Optional.empty();
        // the first list acted on wins over an observing one before it
        ActiveListing hit = lists.over(none, ip("192.0.2.1")).orElseThrow();
        assertThat(hit.cause()).isEqualTo(Cause.list("nixspam"));
        assertThat(hit.cause().label()).isEqualTo("list:nixspam");
        assertThat(hit.cause().confidence()).isEqualTo(Cause.Confidence.LIST);
        assertThat(hit.key()).isEqualTo("192.0.2.1");
        assertThat(hit.until()).isEqualTo(T0.plus(Duration.ofHours(1)));
        assertThat(lists.over(none, ip("192.0.2.3"))).isEmpty();

        // the node's own listing acted on comes first; an observed own listing does not hide a list
        ActiveListing own = new ActiveListing("192.0.2.1", null, T0.plus(Duration.ofHours(24)), Cause.TRAP);
        assertThat(lists.over(Optional.of(own), ip("192.0.2.1"))).contains(own);
        ActiveListing observed = own.withCause(Cause.TRAP.observed());
        assertThat(lists.over(Optional.of(observed), ip("192.0.2.1")).orElseThrow().cause()).isEqualTo(Cause.list("nixspam"));

        // only on the observing list: an observed list cause
        write(b, "192.0.2.2\n", 2_000);
        write(a, "192.0.2.1\n192.0.2.5\n", 2_000);
        clock.set(T0.plus(Duration.ofHours(1)));
        lists.reloader().runDue();
        ActiveListing watched = lists.over(none, ip("192.0.2.5")).orElseThrow();
        assertThat(watched.cause().isObserved()).isTrue();
        assertThat(watched.cause().label()).isEqualTo("observe:list:watch");
    }
}
