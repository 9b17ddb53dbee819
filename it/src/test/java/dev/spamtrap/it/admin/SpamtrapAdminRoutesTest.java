package dev.spamtrap.it.admin;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.RealJames;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every spamtrap WebAdmin route of a real James (with the drop-in jar) backed by the shared real
 * Cassandra, over HTTP, with good and bad input; forgiving an offender lets it back in on its next connection.
 */
class SpamtrapAdminRoutesTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    @RegisterExtension
    static final RealJames james = RealJames.named("admin-routes").with(JamesProcess::refusingAtConnect);
    private static WebAdmin web;

    @BeforeAll
    static void start() {
        web = james.webAdmin();
    }

    /** Refused by the routes themselves, before any store access. */
    @Test
    void badInputIsA400NamingTheParameter() {
        for (String list : List.of("/spamtrap/traps", "/spamtrap/offenders", "/spamtrap/allowlist")) {
            assertBadRequest(web.request("GET", list + "?limit=x", null), "'limit' is not a number: 'x'");
            assertBadRequest(web.request("GET", list + "?offset=-3", null), list.equals("/spamtrap/offenders")
                ? "'offset' is not a parameter of /spamtrap/offenders: page with ?cursor=" : "'offset' must not be negative");
            assertBadRequest(web.request("GET", list + "?limit=0", null), "'limit' must be at least 1");
        }
        assertBadRequest(web.request("GET", "/spamtrap/traps/check", null), "query parameter 'address' is required");
        assertBadRequest(web.request("GET", "/spamtrap/traps/check?address=nope", null), "'address' is not a mail address: 'nope'");
        assertBadRequest(web.request("PUT", "/spamtrap/traps/a@example.com", "{not json"), "the body is not JSON");
        assertBadRequest(web.request("PUT", "/spamtrap/traps/a@example.com", "{\"comment\": 7}"), "'comment' must be a string");
        assertBadRequest(web.request("PUT", "/spamtrap/allowlist/192.0.2.0%2F24", "[1]"), "the body must be a JSON object");
        assertBadRequest(web.request("PUT", "/spamtrap/offenders/198.51.100.7?lifetime=soon", ""), "'lifetime': 'soon' is not a duration");
        assertBadRequest(web.request("PUT", "/spamtrap/offenders/198.51.100.7", ""), "'lifetime' is required");
        assertBadRequest(web.request("POST", "/spamtrap/traps?action=export", "x@y.test"), "'action' must be 'import', not 'export'");
        assertBadRequest(web.request("POST", "/spamtrap/traps", "x@y.test"), "query parameter 'action' is required");
        assertBadRequest(web.request("POST", "/spamtrap/traps?action=import", "# only a comment\n"), "the body holds no trap entry");
    }

    @Test
    void forgivenOffenderIsWelcomeOnItsNextConnection() {
        SmtpClient.deliver("127.0.0.60", james.smtpPort(), "bot@spam.test", List.of("trap@example.com"), "forgive-me");
        assertThat(JamesFixture.connectionAnswer("127.0.0.60", james.smtpPort()).get(0)).startsWith("450 ");
        Await.until(WAIT, "offender stored", () -> web.request("GET", "/spamtrap/offenders/127.0.0.60", null).statusCode(), s -> s == 200);

        HttpResponse<String> one = web.request("GET", "/spamtrap/offenders/127.0.0.60", null);
        assertThat(one.body()).contains("\"key\":\"127.0.0.60\"", "\"hitCount\":1", "\"traps\":[\"trap@example.com\"]",
            "\"helo\":", "\"mailFrom\":\"bot@spam.test\"", "\"nodes\":[\"it-admin-routes\"]", "\"expiresAt\":");
        assertThat(web.request("GET", "/spamtrap/offenders?trap=trap@example.com", null).body()).contains("127.0.0.60");
        assertThat(web.request("GET", "/spamtrap/offenders?node=elsewhere", null).body()).doesNotContain("127.0.0.60");
        assertThat(web.request("GET", "/spamtrap/offenders?prefix=127.0.0.0/24", null).body()).contains("127.0.0.60");
        assertThat(web.request("GET", "/spamtrap/export/plain", null).body()).contains("127.0.0.60\n");

        assertThat(web.request("DELETE", "/spamtrap/offenders/127.0.0.60", null).statusCode()).isEqualTo(204);
        Await.until(Duration.ofSeconds(10), "welcome again", () -> JamesFixture.connectionAnswer("127.0.0.60", james.smtpPort()).get(0),
            a -> a.startsWith("220 "));
        assertThat(web.request("GET", "/spamtrap/offenders/127.0.0.60", null).statusCode()).isEqualTo(404);
        HttpResponse<String> again = web.request("DELETE", "/spamtrap/offenders/127.0.0.60", null);
        assertThat(again.statusCode()).isEqualTo(404);
        assertThat(again.body()).contains("\"statusCode\":404", "\"type\":\"notFound\"");
    }

    @Test
    void offendersListedByHandAndBadInput() {
        assertThat(web.request("PUT", "/spamtrap/offenders/198.51.100.0%2F24?lifetime=2h&reason=abuse-report", "").statusCode()).isEqualTo(204);
        assertThat(JamesFixture.connectionAnswer("127.0.0.61", james.smtpPort()).get(0)).startsWith("220 ");
        HttpResponse<String> listed = web.request("GET", "/spamtrap/offenders/198.51.100.0%2F24", null);
        assertThat(listed.statusCode()).isEqualTo(200);
        assertThat(listed.body()).contains("\"reason\":\"manual\"", "\"key\":\"198.51.100.0/24\"");
        assertThat(web.request("GET", "/spamtrap/offenders?limit=1", null).body()).contains("\"items\":[");
        // the listing reports each entry's own reason (it said "trap" for every one)
        assertThat(web.request("GET", "/spamtrap/offenders?limit=1000", null).body()).contains("\"reason\":\"manual\"");
        assertBadRequest(web.request("PUT", "/spamtrap/offenders/198.51.100.7?lifetime=soon", ""), "lifetime");
        assertBadRequest(web.request("PUT", "/spamtrap/offenders/198.51.100.7", ""), "lifetime");
        assertBadRequest(web.request("PUT", "/spamtrap/offenders/not-an-address?lifetime=1h", ""), "not-an-address");
        // walking the list one entry per page with the cursor: every listing once, each page one read of Cassandra
        for (String key : List.of("203.0.113.1", "203.0.113.2", "203.0.113.3")) {
            assertThat(web.request("PUT", "/spamtrap/offenders/" + key + "?lifetime=1h", "").statusCode()).isEqualTo(204);
        }
        List<String> walked = new java.util.ArrayList<>();
        String cursor = null;
        for (int pages = 0; pages < 100; pages++) {
            String body = web.request("GET", "/spamtrap/offenders?limit=1" + (cursor == null ? "" : "&cursor=" + cursor), null).body();
            java.util.regex.Matcher key = java.util.regex.Pattern.compile("\"key\":\"([^\"]+)\"").matcher(body);
            while (key.find()) {
                walked.add(key.group(1));
            }
            java.util.regex.Matcher next = java.util.regex.Pattern.compile("\"next\":\"([^\"]+)\"").matcher(body);
            if (!next.find()) {
                assertThat(body).contains("\"hasMore\":false");
                break;
            }
            cursor = next.group(1);
        }
        assertThat(walked).contains("203.0.113.1", "203.0.113.2", "203.0.113.3", "198.51.100.0/24").doesNotHaveDuplicates();
        assertBadRequest(web.request("GET", "/spamtrap/offenders?cursor=%25%25not-base64", null), "cursor");
        for (String key : List.of("203.0.113.1", "203.0.113.2", "203.0.113.3")) {
            web.request("DELETE", "/spamtrap/offenders/" + key, null);
        }
        assertBadRequest(web.request("GET", "/spamtrap/offenders?limit=x", null), "limit");
        assertBadRequest(web.request("GET", "/spamtrap/offenders?offset=-3", null), "offset");
        assertThat(web.request("DELETE", "/spamtrap/offenders/198.51.100.0%2F24", null).statusCode()).isEqualTo(204);
    }

    @Test
    void trapsAddedCheckedImportedAndRemoved() {
        assertThat(web.request("PUT", "/spamtrap/traps/harvested@example.com", "{\"comment\":\"contact page\"}").statusCode()).isEqualTo(204);
        Await.until(WAIT, "new trap live", () -> web.request("GET", "/spamtrap/traps/check?address=Harvested@example.com", null).body(),
            b -> b.contains("\"trap\":true"));
        assertThat(web.request("GET", "/spamtrap/traps", null).body())
            .contains("\"entry\":\"harvested@example.com\"", "\"source\":\"table\"", "\"entry\":\"trap@example.com\"", "\"source\":\"file\"");
        assertThat(web.request("GET", "/spamtrap/traps?offset=0&limit=1", null).body()).contains("\"hasMore\":true");
        assertThat(web.request("GET", "/spamtrap/traps/check?address=alice@example.com", null).body()).contains("\"trap\":false");
        assertBadRequest(web.request("GET", "/spamtrap/traps/check", null), "address");
        assertBadRequest(web.request("PUT", "/spamtrap/traps/" + WebAdmin.encode("/spam(/"), ""), "/spam(/");

        HttpResponse<String> task = web.request("POST", "/spamtrap/traps?action=import",
            "# from the old spamd box\nSPAMTRAP|<old1@example.com>\nSPAMTRAP|<old2@example.com>\nGREY|192.0.2.1|x|<a@b>|<c@d>|1|2|3|4|5\nnew3@example.com\n/bad(/\n");
        assertThat(task.statusCode()).isEqualTo(201);
        Matcher id = Pattern.compile("\"taskId\":\"([^\"]+)\"").matcher(task.body());
        assertThat(id.find()).isTrue();
        String done = Await.until(WAIT, "import task done", () -> web.request("GET", "/tasks/" + id.group(1), null).body(),
            b -> b.contains("\"status\":\"completed\"") || b.contains("\"status\":\"failed\""));
        assertThat(done).contains("\"status\":\"completed\"", "\"type\":\"spamtrap-trap-import\"", "\"added\":3", "\"skipped\":1", "/bad(/");
        assertBadRequest(web.request("POST", "/spamtrap/traps?action=export", "x@y.test"), "action");

        Await.until(WAIT, "imported trap live", () -> JamesFixture.rcptReply("127.0.0.62", james.smtpPort(), "old2@example.com"), r -> r.startsWith("250"));
        Await.until(WAIT, "imported trap recorded a hit", () -> web.request("GET", "/spamtrap/offenders/127.0.0.62", null).statusCode(), s -> s == 200);
        assertThat(web.request("DELETE", "/spamtrap/traps/harvested@example.com", null).statusCode()).isEqualTo(204);
        assertThat(web.request("DELETE", "/spamtrap/traps/harvested@example.com", null).statusCode()).isEqualTo(404);
    }

    @Test
    void allowlistingARangeForgivesAndExempts() {
        SmtpClient.deliver("127.0.0.70", james.smtpPort(), "bot@spam.test", List.of("trap@example.com"), "to-be-allowlisted");
        Await.until(WAIT, "offender stored", () -> web.request("GET", "/spamtrap/offenders/127.0.0.70", null).statusCode(), s -> s == 200);
        HttpResponse<String> add = web.request("PUT", "/spamtrap/allowlist/127.0.0.64%2F27", "{\"comment\":\"partner\"}");
        assertThat(add.statusCode()).isEqualTo(204);
        assertThat(add.headers().firstValue("X-Spamtrap-Forgiven")).hasValue("1");
        Await.until(Duration.ofSeconds(10), "welcome again", () -> JamesFixture.connectionAnswer("127.0.0.70", james.smtpPort()).get(0),
            a -> a.startsWith("220 "));
        assertThat(web.request("GET", "/spamtrap/allowlist", null).body()).contains("\"cidr\":\"127.0.0.64/27\"", "\"comment\":\"partner\"");
        assertBadRequest(web.request("PUT", "/spamtrap/allowlist/127.0.0.300", ""), "127.0.0.300");
        assertThat(web.request("DELETE", "/spamtrap/allowlist/127.0.0.64%2F27", null).statusCode()).isEqualTo(204);
        assertThat(web.request("DELETE", "/spamtrap/allowlist/127.0.0.64%2F27", null).statusCode()).isEqualTo(404);
    }

    @Test
    void statusIsHealthyAndTheZoneServesInRbldnsd() throws Exception {
        HttpResponse<String> status = web.request("GET", "/spamtrap/status", null);
        assertThat(status.statusCode()).isEqualTo(200);
        assertThat(status.body()).contains("\"node\":\"it-admin-routes\"", "\"storeReachable\":true", "\"spoolDepth\":", "\"viewSize\":");

        SmtpClient.deliver("127.0.0.110", james.smtpPort(), "bot@spam.test", List.of("trap@example.com"), "zone");
        Await.until(WAIT, "offender stored", () -> web.request("GET", "/spamtrap/export/plain", null).body(), b -> b.contains("127.0.0.110\n"));
        String why = Rbldnsd.whyNot();
        Assumptions.assumeTrue(why == null, () -> "rbldnsd part skipped: " + why);
        // The cron command, as an administrator would run it.
        java.nio.file.Path out = ProjectLayout.locate().root().resolve("it/target/rbldnsd-export.zone");
        Process export = new ProcessBuilder(ProjectLayout.locate().root().resolve("bin/spamtrap-export").toString(),
            "-u", web.base(), out.toString()).redirectErrorStream(true).start();
        String exportOutput = new String(export.getInputStream().readAllBytes());
        assertThat(export.waitFor()).as(exportOutput).isEqualTo(0);
        String zone = java.nio.file.Files.readString(out);
        assertThat(zone).startsWith("# spamtrap offenders");
        try (Rbldnsd dns = Rbldnsd.serve(ProjectLayout.locate().root().resolve("it/target/rbldnsd-james"), zone)) {
            assertThat(dns.dig("127.0.0.110", "A")).isEqualTo("127.0.0.2");
            assertThat(dns.dig("127.0.0.110", "TXT")).contains("Your address 127.0.0.110 has sent mail to a spamtrap; listed until ");
            assertThat(dns.status("127.0.0.111")).isEqualTo("NXDOMAIN");
        }
    }

    private static void assertBadRequest(HttpResponse<String> r, String named) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(r.body()).contains("\"type\":\"InvalidArgument\"", named);
    }
}
