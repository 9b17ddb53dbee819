package dev.spamtrap.james.routes;

import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.james.tasks.TrapImportTask;
import org.apache.james.task.Hostname;
import org.apache.james.task.MemoryTaskManager;
import org.apache.james.task.TaskExecutionDetails;
import org.apache.james.task.TaskId;
import org.apache.james.task.TaskManager;
import org.apache.james.webadmin.utils.JsonTransformer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.inject.Provider;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Every spamtrap route over real HTTP (Spark/Jetty as WebAdmin runs them) against an in-memory admin. */
class SpamtrapRoutesTest {
    private final FakeSpamtrapAdmin admin = new FakeSpamtrapAdmin();
    private volatile boolean adminAvailable = true;
    private final Provider<SpamtrapAdmin> provider = () -> {
        if (!adminAvailable) {
            throw new IllegalStateException("no SpamtrapAdmin implementation in this build");
        }
        return admin;
    };
    private TaskManager tasks;
    private RouteServer server;

    @BeforeEach
    void start() {
        tasks = new MemoryTaskManager(new Hostname("test"));
        JsonTransformer json = new JsonTransformer();
        server = new RouteServer(new TrapRoutes(provider, tasks, json), new OffenderRoutes(provider, json),
            new AllowlistRoutes(provider, json), new StatusRoutes(provider, json), new ExportRoutes(provider));
    }

    @AfterEach
    void stop() {
        server.close();
        ((MemoryTaskManager) tasks).stop();
    }

    @Test
    void trapsAreAddedListedPagedCheckedAndRemoved() {
        assertThat(server.put("/spamtrap/traps/trap@example.com", "{\"comment\":\"web page\"}").statusCode()).isEqualTo(204);
        assertThat(server.put("/spamtrap/traps/%40traps.example.com", "").statusCode()).isEqualTo(204);
        assertThat(server.put("/spamtrap/traps/" + enc("/^spam(master|trap)?@/"), "").statusCode()).isEqualTo(204);

        HttpResponse<String> all = server.get("/spamtrap/traps");
        assertThat(all.statusCode()).isEqualTo(200);
        assertThat(all.body()).contains("\"entry\":\"trap@example.com\"", "\"comment\":\"web page\"", "\"entry\":\"@traps.example.com\"",
            "\"entry\":\"/^spam(master|trap)?@/\"", "\"hasMore\":false");
        HttpResponse<String> page = server.get("/spamtrap/traps?offset=1&limit=1");
        assertThat(page.body()).contains("\"offset\":1", "\"hasMore\":true").doesNotContain("trap@example.com");

        assertThat(server.get("/spamtrap/traps/check?address=x@traps.example.com").body())
            .contains("\"trap\":true", "\"entry\":\"@traps.example.com\"", "\"kind\":\"domain\"");
        assertThat(server.get("/spamtrap/traps/check?address=spammaster@a.test").body()).contains("\"trap\":true", "\"kind\":\"pattern\"");
        assertThat(server.get("/spamtrap/traps/check?address=alice@example.com").body()).contains("\"trap\":false");

        assertThat(server.delete("/spamtrap/traps/trap@example.com").statusCode()).isEqualTo(204);
        assertThat(admin.traps).doesNotContainKey("trap@example.com");
        HttpResponse<String> missing = server.delete("/spamtrap/traps/trap@example.com");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).contains("\"type\":\"notFound\"", "trap@example.com");
    }

    @Test
    void badTrapInputIsA400NamingIt() {
        HttpResponse<String> regex = server.put("/spamtrap/traps/" + enc("/spam(/"), "");
        assertThat(regex.statusCode()).isEqualTo(400);
        assertThat(regex.body()).contains("\"type\":\"InvalidArgument\"", "/spam(/");
        assertThat(server.get("/spamtrap/traps/check").body()).contains("'address' is required");
        assertThat(server.get("/spamtrap/traps/check").statusCode()).isEqualTo(400);
        assertThat(server.get("/spamtrap/traps/check?address=nope").statusCode()).isEqualTo(400);
        assertThat(server.get("/spamtrap/traps?limit=abc").body()).contains("'limit' is not a number");
        assertThat(server.get("/spamtrap/traps?offset=-1").body()).contains("'offset' must not be negative");
        assertThat(server.get("/spamtrap/traps?limit=0").statusCode()).isEqualTo(400);
        assertThat(server.put("/spamtrap/traps/a@b.test", "{not json").statusCode()).isEqualTo(400);
    }

    @Test
    void bulkImportRunsAsATaskAndReadsSpamdbDumps() throws Exception {
        String body = "# harvested\nfirst@example.com\n@bulk.example.com\n/spam(/\n"
            + "SPAMTRAP|<second@example.com>\nWHITE|192.0.2.1|||1|2|3|4|5\nGREY|192.0.2.2|helo|<a@b>|<c@d>|1|2|3|4|5\n";
        HttpResponse<String> r = server.post("/spamtrap/traps?action=import&comment=list-2026", body);
        assertThat(r.statusCode()).isEqualTo(201);
        assertThat(r.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l).startsWith("/tasks/"));
        Matcher m = Pattern.compile("\"taskId\":\"([^\"]+)\"").matcher(r.body());
        assertThat(m.find()).isTrue();
        TaskExecutionDetails details = tasks.await(TaskId.fromString(m.group(1)), Duration.ofSeconds(30));
        assertThat(details.getStatus()).isEqualTo(TaskManager.Status.COMPLETED);
        TrapImportTask.Details info = (TrapImportTask.Details) details.getAdditionalInformation().orElseThrow();
        assertThat(info.added()).isEqualTo(3);
        assertThat(info.skipped()).isEqualTo(2);
        assertThat(info.refused()).singleElement().asString().contains("/spam(/");
        assertThat(admin.traps).containsKeys("first@example.com", "@bulk.example.com", "second@example.com");
        assertThat(admin.traps.get("second@example.com").comment()).hasValue("list-2026");

        assertThat(server.post("/spamtrap/traps?action=nope", body).statusCode()).isEqualTo(400);
        assertThat(server.post("/spamtrap/traps", body).body()).contains("'action' is required");
        assertThat(server.post("/spamtrap/traps?action=import", "# nothing\n").statusCode()).isEqualTo(400);
    }

    @Test
    void offendersAreListedFilteredShownListedByHandAndForgiven() {
        Instant until = Instant.parse("2026-11-24T10:00:00Z");
        admin.offender("192.0.2.7", "trap@example.com", "node-a", until);
        admin.offender("198.51.100.9", "other@example.com", "node-b", until);
        admin.offender("2001:db8:1:2::/64", "trap@example.com", "node-b", until);

        assertThat(server.get("/spamtrap/offenders").body()).contains("192.0.2.7", "198.51.100.9", "2001:db8:1:2::/64");
        assertThat(server.get("/spamtrap/offenders?prefix=192.0.2.0/24").body()).contains("192.0.2.7").doesNotContain("198.51.100.9");
        assertThat(server.get("/spamtrap/offenders?trap=trap@example.com&node=node-b").body())
            .contains("2001:db8:1:2::/64").doesNotContain("192.0.2.7", "198.51.100.9");
        assertThat(server.get("/spamtrap/offenders?limit=1").body()).contains("\"hasMore\":true", "\"next\":\"1\"");
        assertThat(server.get("/spamtrap/offenders?limit=2&cursor=1").body()).contains("\"hasMore\":false").doesNotContain("\"next\"");
        assertThat(server.get("/spamtrap/offenders?cursor=nonsense").statusCode()).isEqualTo(400);
        HttpResponse<String> offset = server.get("/spamtrap/offenders?offset=1&limit=1");
        assertThat(offset.statusCode()).isEqualTo(400);
        assertThat(offset.body()).contains("'offset' is not a parameter of /spamtrap/offenders: page with ?cursor=");

        HttpResponse<String> one = server.get("/spamtrap/offenders/2001:db8:1:2::%2F64");
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat(one.body()).contains("\"key\":\"2001:db8:1:2::/64\"", "\"traps\":[\"trap@example.com\"]", "\"nodes\":[\"node-b\"]",
            "\"helo\":\"bot.test\"", "\"mailFrom\":\"spam@bot.test\"", "\"expiresAt\":\"2026-11-24T10:00:00Z\"", "\"hits\":[");
        HttpResponse<String> none = server.get("/spamtrap/offenders/203.0.113.1");
        assertThat(none.statusCode()).isEqualTo(404);
        assertThat(none.body()).contains("\"statusCode\":404", "203.0.113.1");

        assertThat(server.put("/spamtrap/offenders/203.0.113.0%2F24?lifetime=2h&reason=abuse-desk", "").statusCode()).isEqualTo(204);
        assertThat(admin.offenders.get("203.0.113.0/24").expiresAt()).isEqualTo(FakeSpamtrapAdmin.NOW.plus(Duration.ofHours(2)));
        assertThat(admin.offenders.get("203.0.113.0/24").reason()).isEqualTo("abuse-desk");
        assertThat(server.put("/spamtrap/offenders/203.0.113.5", "{\"lifetime\":\"1d\"}").statusCode()).isEqualTo(204);
        assertThat(server.put("/spamtrap/offenders/203.0.113.6?lifetime=soon", "").body()).contains("'lifetime'", "soon");
        assertThat(server.put("/spamtrap/offenders/203.0.113.6", "").body()).contains("'lifetime' is required");
        assertThat(server.put("/spamtrap/offenders/not-an-ip?lifetime=1h", "").statusCode()).isEqualTo(400);

        assertThat(server.delete("/spamtrap/offenders/192.0.2.7").statusCode()).isEqualTo(204);
        assertThat(admin.offenders).doesNotContainKey("192.0.2.7");
        assertThat(server.delete("/spamtrap/offenders/192.0.2.7").statusCode()).isEqualTo(404);
    }

    @Test
    void allowlistingARangeForgivesTheOffendersInside() {
        admin.offender("192.0.2.7", "trap@example.com", "node-a", Instant.parse("2026-11-24T10:00:00Z"));
        HttpResponse<String> r = server.put("/spamtrap/allowlist/192.0.2.0%2F24", "{\"comment\":\"partner\"}");
        assertThat(r.statusCode()).isEqualTo(204);
        assertThat(r.headers().firstValue("X-Spamtrap-Forgiven")).hasValue("1");
        assertThat(admin.offenders).isEmpty();
        assertThat(server.get("/spamtrap/allowlist").body()).contains("\"cidr\":\"192.0.2.0/24\"", "\"comment\":\"partner\"");
        assertThat(server.put("/spamtrap/allowlist/300.1.1.1", "").statusCode()).isEqualTo(400);
        assertThat(server.delete("/spamtrap/allowlist/192.0.2.0%2F24").statusCode()).isEqualTo(204);
        assertThat(server.delete("/spamtrap/allowlist/192.0.2.0%2F24").statusCode()).isEqualTo(404);
    }

    @Test
    void statusIsAHealthCheck() {
        HttpResponse<String> ok = server.get("/spamtrap/status");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).contains("\"node\":\"fake-node\"", "\"storeReachable\":true", "\"spoolDepth\":3", "\"lastSyncAgeSeconds\":2.0");
        admin.storeUp = false;
        HttpResponse<String> down = server.get("/spamtrap/status");
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.body()).contains("\"storeReachable\":false");
    }

    @Test
    void exportsTheZoneAndThePlainList() {
        admin.offender("192.0.2.7", "trap@example.com", "node-a", Instant.parse("2026-11-24T10:00:00Z"));
        admin.offender("2001:db8:1:2::/64", "trap@example.com", "node-a", Instant.parse("2026-11-25T10:00:00Z"));
        HttpResponse<String> zone = server.get("/spamtrap/export/rbldnsd");
        assertThat(zone.statusCode()).isEqualTo(200);
        assertThat(zone.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        assertThat(zone.body()).contains("$DATASET ip4set @", "192.0.2.7 :127.0.0.2:Your address $ has sent mail to a spamtrap; listed until 2026-11-24T10:00:00Z",
            "$DATASET ip6trie @", "2001:db8:1:2::/64 :127.0.0.2:");
        assertThat(server.get("/spamtrap/export/plain").body()).isEqualTo("192.0.2.7\n2001:db8:1:2::/64\n");
    }

    @Test
    void withoutAnAdminImplementationRoutesAnswer503() {
        adminAvailable = false;
        HttpResponse<String> r = server.get("/spamtrap/offenders");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("no SpamtrapAdmin implementation");
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }
}
