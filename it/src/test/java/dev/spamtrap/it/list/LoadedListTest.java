package dev.spamtrap.it.list;

import com.sun.net.httpserver.HttpServer;
import dev.spamtrap.it.Await;
import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.RealJames;
import dev.spamtrap.it.admin.Scrape;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lists loaded as OpenBSD spamd's spamd.conf loads them, on a real James over real SMTP: the lists are served over HTTP
 * by this test (no internet). OffenderConnectHandler keeps the sample's mode (tarpit) and decides at connect; list
 * {@code nixspam} refuses (at once, whatever the mode), list {@code watch} only observes, list {@code slow} tarpits (the
 * handler's tarpit, its delay cut to 1 s).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LoadedListTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final HttpServer HTTP;
    /** Set before James starts (the extension starts it before any @BeforeAll): a first load must find the list. */
    private static final AtomicReference<String> NIXSPAM = new AtomicReference<>(firstList());
    private static final AtomicInteger STATUS = new AtomicInteger(200);

    static {
        try {
            HTTP = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        HTTP.createContext("/nixspam.txt", ex -> {
            byte[] b = NIXSPAM.get().getBytes(StandardCharsets.US_ASCII);
            if (STATUS.get() != 200) {
                ex.sendResponseHeaders(STATUS.get(), -1);
            } else {
                ex.sendResponseHeaders(200, b.length);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(b);
                }
            }
            ex.close();
        });
        HTTP.createContext("/slow.txt", ex -> {
            byte[] b = "127.0.0.95\n".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, b.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(b);
            }
            ex.close();
        });
        HTTP.createContext("/watch.txt", ex -> {
            byte[] b = "127.0.0.90\n".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, b.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(b);
            }
            ex.close();
        });
        HTTP.start();
    }

    private static String url(String path) {
        return "http://127.0.0.1:" + HTTP.getAddress().getPort() + path;
    }

    @RegisterExtension
    static final RealJames JAMES = RealJames.named("loaded-list")
        .with(j -> j.offenderCheckAt("connect")
            .blocklist("nixspam", url("/nixspam.txt"), "refuse", "Your address %A is in the nixspam list, see https://www.example.net/nixspam", "1s")
            .blocklist("watch", url("/watch.txt"), "observe", "Your address %A is on the watch list", "1s")
            .blocklist("slow", url("/slow.txt"), "tarpit", "Your address %A is on the slow list", "1s")
            .edit("smtpserver.xml", s -> s.replace("<delay>10s</delay>", "<delay>1s</delay>"))
            .edit("allowlist.txt", s -> s + "\n127.0.0.71/32\n"));

    /** 24 entries (two addresses, a range that aligns to no prefix, an IPv6 prefix, 20 more) and one bad line (4%). */
    private static String firstList() {
        StringBuilder b = new StringBuilder("# nixspam as served to spamd-setup\n127.0.0.70\n127.0.0.71\n127.0.0.80 - 127.0.0.85\n2001:db8::/32\n");
        for (int i = 1; i <= 20; i++) {
            b.append("192.0.2.").append(i).append("   # ").append(i).append(" hits\n");
        }
        return b.append("not-an-address\n").toString();
    }

    @AfterAll
    static void stopServing() {
        HTTP.stop(0);
    }

    private static WebAdmin web() {
        return JAMES.webAdmin();
    }

    private static String nixspamJson() {
        return web().get("/spamtrap/lists/nixspam");
    }

    private static String first(String client) {
        List<String> answer = JamesFixture.connectionAnswer(client, JAMES.smtpPort());
        return answer.isEmpty() ? "" : answer.get(0);
    }

    @Test
    @Order(1)
    void aListedAddressIsRefusedWithTheListsTextAndAnAllowlistedOneIsNot() {
        Await.until(WAIT, "nixspam loaded", LoadedListTest::nixspamJson, s -> s.contains("\"entries\":24"));
        String list = nixspamJson();
        assertThat(list).contains("\"source\":\"" + url("/nixspam.txt") + "\"").contains("\"action\":\"refuse\"")
            .contains("\"badLines\":1").contains("nixspam.txt:26: 'not-an-address' is not an address, prefix or range").contains("\"loadFailures\":0")
            .contains("\"lastError\":null");
        Await.until(WAIT, "watch loaded", () -> web().get("/spamtrap/lists/watch"), s -> s.contains("\"entries\":1"));

        // refused at once (the handler tarpits, the list says refuse), with the list's text and the client's address
        assertThat(JamesFixture.connectionAnswer("127.0.0.70", JAMES.smtpPort()))
            .containsExactly("450 4.7.1 Your address 127.0.0.70 is in the nixspam list, see https://www.example.net/nixspam");
        // inside a range that aligns to no prefix
        assertThat(first("127.0.0.83")).isEqualTo("450 4.7.1 Your address 127.0.0.83 is in the nixspam list, see https://www.example.net/nixspam");
        // on the list and on the allowlist: the allowlist wins
        assertThat(first("127.0.0.71")).startsWith("220 ");
        // beside the range, and on no list
        assertThat(first("127.0.0.86")).startsWith("220 ");
        assertThat(first("127.0.0.72")).startsWith("220 ");
        // on a list that only observes: let through, reported
        assertThat(first("127.0.0.90")).startsWith("220 ");
        // on a list whose action is tarpit: the handler's tarpit (every reply late), the list's text after the message
        web().addUser("alice@example.com", "alice");
        Await.until(WAIT, "slow loaded", () -> web().get("/spamtrap/lists/slow"), s -> s.contains("\"entries\":1"));
        try (dev.spamtrap.it.stack.SmtpClient c = dev.spamtrap.it.stack.SmtpClient.connect("127.0.0.95", JAMES.smtpPort())) {
            assertThat(c.reply()).startsWith("220 ");
            c.command("EHLO slow.test");
            c.command("MAIL FROM:<a@slow.test>");
            c.command("RCPT TO:<alice@example.com>");
            c.command("DATA");
            c.write("Subject: x\r\n\r\nx\r\n.\r\n");
            assertThat(c.reply()).isEqualTo("450 4.7.1 Your address 127.0.0.95 is on the slow list");
        }

        String log = Await.until(WAIT, "refusal events", JAMES::log, l -> l.contains("client=\"127.0.0.90\""));
        assertThat(log).contains("spamtrap refusal client=\"127.0.0.70\" action=\"refuse\"")
            .containsPattern("spamtrap refusal client=\"127.0.0.70\" action=\"refuse\" until=\"[^\"]+\" class=\"list\" cause=\"list:nixspam\" list=\"nixspam\"")
            .containsPattern("spamtrap refusal client=\"127.0.0.90\" action=\"observe\" until=\"[^\"]+\" class=\"list\" cause=\"observe:list:watch\"")
            .containsPattern("spamtrap refusal client=\"127.0.0.95\" action=\"tarpit\" until=\"[^\"]+\" class=\"list\" cause=\"list:slow\"")
            .doesNotContain("client=\"127.0.0.71\" action=");

        Scrape metrics = new Scrape(web().get("/metrics"));
        assertThat(metrics.value("spamtrap_list_entries_nixspam")).as(metrics.toString()).isEqualTo(24.0);
        assertThat(metrics.value("spamtrap_list_entries_watch")).isEqualTo(1.0);
        assertThat(metrics.counter("spamtrap_list_refusals_nixspam")).as(metrics.toString()).isEqualTo(2.0);
        assertThat(metrics.counter("spamtrap_list_would_refuse_watch")).isEqualTo(1.0);
        assertThat(metrics.value("spamtrap_list_load_failures_nixspam")).isEqualTo(0.0);

        // someone else's list: never stored as an offender, never exported
        assertThat(web().request("GET", "/spamtrap/offenders/127.0.0.70", null).statusCode()).isEqualTo(404);
        assertThat(web().get("/spamtrap/export/plain")).doesNotContain("127.0.0.70");
        assertThat(web().get("/spamtrap/lists?address=127.0.0.84")).contains("\"name\":\"nixspam\"").doesNotContain("\"name\":\"watch\"");
    }

    @Test
    @Order(2)
    void aFailedFetchKeepsTheListAndAnEntryGoesWithTheLoadThatNoLongerHasIt() {
        STATUS.set(500);
        Await.until(WAIT, "a failed load", LoadedListTest::nixspamJson, s -> s.contains("HTTP 500"));
        assertThat(nixspamJson()).contains("\"entries\":24");
        assertThat(first("127.0.0.70")).as("the list in use is kept").startsWith("450 4.7.1 Your address 127.0.0.70 is in the nixspam list");
        assertThat(new Scrape(web().get("/metrics")).value("spamtrap_list_load_failures_nixspam")).isGreaterThanOrEqualTo(1.0);

        NIXSPAM.set("127.0.0.80 - 127.0.0.85\n");
        STATUS.set(200);
        Await.until(WAIT, "the new list", LoadedListTest::nixspamJson, s -> s.contains("\"entries\":1,"));
        assertThat(nixspamJson()).contains("\"lastError\":null");
        assertThat(first("127.0.0.70")).as("gone with the load that no longer has it").startsWith("220 ");
        assertThat(first("127.0.0.85")).startsWith("450 4.7.1 Your address 127.0.0.85 is in the nixspam list");
    }
}
