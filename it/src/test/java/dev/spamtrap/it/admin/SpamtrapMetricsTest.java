package dev.spamtrap.it.admin;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.stack.AgentProcess;
import dev.spamtrap.it.stack.CassandraProcess;
import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.Ports;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A scripted scenario on a real James (its Cassandra down at first, then started), with the firewall
 * agent in dry-run mode, watching every spamtrap metric change on James's own {@code GET /metrics}.
 */
class SpamtrapMetricsTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void everyMetricMovesAsTheScenarioRuns() throws Exception {
        Path dir = ProjectLayout.locate().root().resolve("it/target/metrics-scenario");
        Dirs.deleteRecursively(dir);
        int nativePort = Ports.free();
        int agentPort = Ports.free();
        AgentProcess agent = new AgentProcess(dir.resolve("agent")).ensureKey();
        try (CassandraProcess cassandra = new CassandraProcess(dir.resolve("cassandra"), nativePort, Ports.free());
             JamesProcess james = JamesFixture.james("metrics", "it_metrics")
                 .cassandra("127.0.0.1:" + nativePort)
                 .offenderCheckAt("connect")
                 .edit("smtpserver.xml", s -> s.replace("<delay>10s</delay>", "<delay>1s</delay>").replace("<maxDuration>10m</maxDuration>", "<maxDuration>5s</maxDuration>"))
                 .spamtrapProperty("startup.timeout", "2s")
                 .spamtrapProperty("cassandra.requestTimeout", "2s")
                 .spamtrapProperty("firewall.agent", "tcp:127.0.0.1:" + agentPort)
                 .spamtrapProperty("firewall.keyFile", agent.keyFile().toString())
                 .prepare()) {
            agent.configure(Map.of("backend", "log", "ports", "2525", "listen.tcp", "127.0.0.1:" + agentPort,
                    "reconcile.spamtrapConfig", james.conf().resolve("spamtrap.properties").toString(), "reconcile.interval", "1h"))
                .start("127.0.0.1", agentPort, WAIT);
            james.start(JamesFixture.START);
            WebAdmin web = new WebAdmin(james.webAdminPort());
            int smtp = james.smtpPort();

            List<Scrape> steps = new ArrayList<>();

            Scrape start = scrape(web);
            steps.add(start);
            for (String counter : List.of("spamtrap_hits", "spamtrap_hits_address", "spamtrap_hits_domain", "spamtrap_hits_pattern",
                    "spamtrap_refusals", "spamtrap_refusals_tarpit", "spamtrap_refusals_refuse", "spamtrap_tarpit_connections")) {
                assertThat(start.counter(counter)).as(counter + " at start in\n" + start).isEqualTo(0.0);
            }
            for (String gauge : List.of("spamtrap_firewall_queued", "spamtrap_firewall_sent", "spamtrap_firewall_refused", "spamtrap_firewall_dropped")) {
                assertThat(start.value(gauge)).as(gauge + " at start in\n" + start).isEqualTo(0.0);
            }

            // A hit while Cassandra is down: counted, and waiting in the spool.
            SmtpClient.deliver("127.0.0.50", smtp, "bot@spam.test", List.of("trap@example.com"), "metrics-1");
            waitFor(web, "spamtrap_hits", 1.0, true);
            waitFor(web, "spamtrap_hits_address", 1.0, true);
            steps.add(scrape(web));

            // The offender comes back: tarpitted (a refusal), and the tarpit counts its connection and time.
            try (SmtpClient c = SmtpClient.connect("127.0.0.50", smtp)) {
                assertThat(c.reply()).startsWith("220");
                waitFor(web, "spamtrap_tarpit_active", 1.0, false);
                c.command("QUIT");
            }
            waitFor(web, "spamtrap_refusals", 1.0, true);
            waitFor(web, "spamtrap_refusals_tarpit", 1.0, true);
            waitFor(web, "spamtrap_tarpit_connections", 1.0, true);
            waitFor(web, "spamtrap_tarpit_active", 0.0, false);
            Await.until(WAIT, "attacker seconds", () -> scrape(web).counter("spamtrap_tarpit_attacker_seconds"), v -> v >= 1.0);

            // Cassandra comes up: the spooled hit is stored and the agent is told (it refuses a loopback
            // address: the client counts a refusal).
            cassandra.start(Duration.ofSeconds(180));
            Await.until(WAIT, "firewall refused", () -> scrape(web).value("spamtrap_firewall_refused"), v -> v >= 1.0);
            steps.add(scrape(web));

            // The agent goes away: the next offenders' BLOCKs are retried, then dropped.
            agent.close();
            SmtpClient.deliver("127.0.0.51", smtp, "bot@spam.test", List.of("someone@traps.example.com"), "metrics-2");
            SmtpClient.deliver("127.0.0.52", smtp, "bot@spam.test", List.of("spammaster@anywhere.test"), "metrics-3");
            waitFor(web, "spamtrap_hits_domain", 1.0, true);
            waitFor(web, "spamtrap_hits_pattern", 1.0, true);
            waitFor(web, "spamtrap_hits", 3.0, true);
            Await.until(WAIT, "firewall dropped", () -> scrape(web).value("spamtrap_firewall_dropped"), v -> v >= 1.0);
            assertThat(Await.until(WAIT, "event lines", james::log, l -> l.contains("spamtrap refusal client=\"127.0.0.50\""))).contains(
                "spamtrap hit client=\"127.0.0.51\" trap=\"someone@traps.example.com\" kind=\"domain\"",
                "spamtrap refusal client=\"127.0.0.50\" action=\"tarpit\"");

            // The store-side gauges come from the node's status (the admin service).
            assertThat(steps.get(0).value("spamtrap_store_up")).as("store down at start").isEqualTo(0.0);
            assertThat(steps.get(0).value("spamtrap_spool_depth")).isEqualTo(0.0);
            assertThat(steps.get(1).value("spamtrap_spool_depth")).as("hit spooled while the store is down").isEqualTo(1.0);
            waitFor(web, "spamtrap_store_up", 1.0, false);
            waitFor(web, "spamtrap_spool_depth", 0.0, false);
            Await.until(WAIT, "view size", () -> scrape(web).value("spamtrap_view_size"), v -> v >= 3.0);
            Await.until(WAIT, "sync lag known and small", () -> scrape(web).value("spamtrap_sync_lag_seconds"), v -> v >= 0.0 && v < 30.0);

            // With the agent back, forgiving an offender sends it an UNBLOCK, which it accepts (dry run).
            agent.start("127.0.0.1", agentPort, WAIT);
            assertThat(web.request("DELETE", "/spamtrap/offenders/127.0.0.50", null).statusCode()).isEqualTo(204);
            Await.until(WAIT, "firewall sent", () -> scrape(web).value("spamtrap_firewall_sent"), v -> v >= 1.0);
            Await.until(WAIT, "view size after forgiving", () -> scrape(web).value("spamtrap_view_size"), v -> v == 2.0);
        } finally {
            agent.close();
        }
    }

    private static Scrape scrape(WebAdmin web) {
        return new Scrape(web.get("/metrics"));
    }

    private static void waitFor(WebAdmin web, String name, double expected, boolean counter) {
        Predicate<Double> ok = v -> v == expected;
        Await.until(WAIT, name + " = " + expected, () -> counter ? scrape(web).counter(name) : scrape(web).value(name), ok);
    }
}
