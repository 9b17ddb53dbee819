package dev.spamtrap.it.sensor;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.SharedCassandra;
import dev.spamtrap.it.admin.Scrape;
import dev.spamtrap.it.stack.AgentProcess;
import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The protocol sensors on two real James nodes over real SMTP sockets, sharing one keyspace of the suite's real
 * Cassandra: node A acts (pregreet, http, header: tarpit), node B observes. A fake firewall agent on A records every
 * command it gets.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProtocolSensorTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String KEYSPACE = "it_sensors";
    private static final String GREETING = "220 mail.example.com ESMTP ready";
    /** The teaser: the first line of the greeting, with James's hello name (the host's name here). */
    private static final String TEASER = "220-";
    private static final String TESTED = "220-\\S+ ESMTP\n" + java.util.regex.Pattern.quote(GREETING);

    private JamesProcess a;
    private JamesProcess b;
    private WebAdmin webA;
    private WebAdmin webB;
    private ServerSocket agent;
    private final List<String> agentLines = new CopyOnWriteArrayList<>();

    private static String sensors(String xml, String action) {
        String handler = "<handler class=\"dev.spamtrap.smtp.ProtocolSensorHandler\">"
            + "<pregreet><action>" + action + "</action><wait>2s</wait><passLifetime>1h</passLifetime></pregreet>"
            + "<http><action>" + action + "</action></http><header><action>" + action + "</action></header></handler>\n"
            + "            <handler class=\"dev.spamtrap.smtp.TrapRcptHook\">";
        return xml.replace("<handler class=\"dev.spamtrap.smtp.TrapRcptHook\">", handler)
            .replace("<delay>10s</delay>", "<delay>1s</delay>")
            .replace("<maxDuration>10m</maxDuration>", "<maxDuration>20s</maxDuration>");
    }

    @BeforeAll
    void start() throws Exception {
        agent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread fake = new Thread(this::serveAgent, "fake-agent");
        fake.setDaemon(true);
        fake.start();
        Path keyDir = ProjectLayout.locate().root().resolve("it/target/sensor-agent");
        Dirs.deleteRecursively(keyDir);
        AgentProcess keys = new AgentProcess(keyDir).ensureKey();
        // B is prepared first: each fixture empties the keyspace, and both nodes share it
        b = JamesFixture.james("sensor-b", KEYSPACE).offenderCheckAt("connect").edit("smtpserver.xml", xml -> sensors(xml, "observe"))
            .spamtrapProperty("sync.interval", "250ms").spamtrapProperty("observe.traps", "true").prepare();
        a = JamesFixture.james("sensor-a", KEYSPACE).offenderCheckAt("connect").edit("smtpserver.xml", xml -> sensors(xml, "tarpit"))
            .spamtrapProperty("sync.interval", "250ms")
            .spamtrapProperty("firewall.agent", "tcp:127.0.0.1:" + agent.getLocalPort())
            .spamtrapProperty("firewall.keyFile", keys.keyFile().toString())
            .prepare();
        a.start(JamesFixture.START);
        b.start(JamesFixture.START);
        webA = new WebAdmin(a.webAdminPort());
        webB = new WebAdmin(b.webAdminPort());
        webA.addUser("alice@example.com", "alice");
        webB.addUser("alice@example.com", "alice");
    }

    /** Records every line James's firewall client sends and accepts each message. */
    private void serveAgent() {
        while (!agent.isClosed()) {
            try (Socket s = agent.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                OutputStream out = s.getOutputStream();
                for (String l; (l = in.readLine()) != null; ) {
                    // a message: header (v3 <agent> <millis> <nonce> <count>), its commands, its HMAC line
                    agentLines.add(l);
                    String[] f = l.split(" ");
                    int count = f.length == 5 ? Integer.parseInt(f[4]) : 0;
                    for (int i = 0; i <= count; i++) {
                        agentLines.add(in.readLine());
                    }
                    out.write(("OK " + (f.length > 3 ? f[3] : "-") + " " + count + " of " + count + " applied\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            } catch (Exception e) {
                // next connection
            }
        }
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {a, b, agent}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // stopping anyway
            }
        }
    }

    /** The client's own listing on WebAdmin, as JSON text, or "" while there is none. */
    private static String listing(WebAdmin web, String ip) {
        var r = web.request("GET", "/spamtrap/offenders/" + ip, null);
        return r.statusCode() == 200 ? r.body() : "";
    }

    private static Scrape metrics(WebAdmin web) {
        return new Scrape(web.get("/metrics"));
    }

    @Test
    void aClientTalkingBeforeTheFinalGreetingIsListedProtocolPregreetTarpittedOnReturnNeverBlockedNorExported() throws Exception {
        try (SmtpClient c = SmtpClient.connect("127.0.0.60", a.smtpPort())) {
            c.write("EHLO hurried.bot\r\n"); // before anything arrives: the teaser at most
            String first = c.reply();
            assertThat(first).startsWith(TEASER).contains(GREETING); // the greeting, late (tarpitted), then its EHLO's reply
            assertThat(c.reply()).startsWith("250");
        }
        String listed = Await.until(WAIT, "listing of 127.0.0.60", () -> listing(webA, "127.0.0.60"), s -> !s.isEmpty());
        assertThat(listed).contains("\"class\":\"protocol\"").contains("\"sensor\":\"pregreet\"").contains("\"reason\":\"protocol:pregreet\"");
        String offenders = webA.get("/spamtrap/offenders?class=protocol&sensor=pregreet");
        assertThat(offenders).contains("127.0.0.60");
        assertThat(webA.get("/spamtrap/offenders?class=trap")).doesNotContain("127.0.0.60");

        // on return it is tarpitted: no teaser (listed clients are not tested), the greeting late, and the event says why
        try (SmtpClient c = SmtpClient.connect("127.0.0.60", a.smtpPort())) {
            long t = System.nanoTime();
            assertThat(c.reply()).isEqualTo(GREETING);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t)).as("the tarpit's delay").isGreaterThanOrEqualTo(900);
            c.command("QUIT");
        }
        assertThat(Await.until(WAIT, "tarpit event", a::log, l -> l.contains("spamtrap refusal client=\"127.0.0.60\" action=\"tarpit\""))).contains(
            "class=\"protocol\" cause=\"protocol:pregreet\" sensor=\"pregreet\"");
        // what it sent: its bytes, or (when they reached James before the test was in place) the HELO name James took from them
        assertThat(a.log()).containsPattern("spamtrap protocol client=\"127.0.0.60\" class=\"protocol\" sensor=\"pregreet\" action=\"tarpit\""
            + " sent=\"(EHLO|HELO) hurried.bot");

        // a trap hitter is sent to the agent (the control); the protocol client never is; neither export names it unless asked
        SmtpClient.deliver("127.0.0.64", a.smtpPort(), "bot@spam.test", List.of("trap@example.com"), "control");
        Await.until(WAIT, "the agent hears of the trap hitter", () -> String.join("\n", agentLines), s -> s.contains("127.0.0.64"));
        assertThat(agentLines).noneMatch(l -> l.contains("127.0.0.60"));
        String zone = webA.get("/spamtrap/export/rbldnsd");
        assertThat(zone).contains("127.0.0.64 :127.0.0.2:").doesNotContain("127.0.0.60");
        assertThat(webA.get("/spamtrap/export/plain")).doesNotContain("127.0.0.60");
        assertThat(webA.get("/spamtrap/export/rbldnsd?protocol=true")).contains("127.0.0.60 :127.0.0.6:");
        // the cron script: without -p the protocol class is left out, with -p it is in
        Path zones = ProjectLayout.locate().root().resolve("it/target/sensor-export");
        java.nio.file.Files.createDirectories(zones);
        for (boolean withProtocol : new boolean[] {false, true}) {
            Path out = zones.resolve(withProtocol ? "with.zone" : "without.zone");
            List<String> cmd = new java.util.ArrayList<>(List.of(ProjectLayout.locate().root().resolve("bin/spamtrap-export").toString(),
                "-u", "http://127.0.0.1:" + a.webAdminPort()));
            if (withProtocol) {
                cmd.add("-p");
            }
            cmd.add(out.toString());
            Process export = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String said = new String(export.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(export.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(export.exitValue()).as(said).isZero();
            String zoneFile = java.nio.file.Files.readString(out);
            assertThat(zoneFile).contains("127.0.0.64 :127.0.0.2:");
            if (withProtocol) {
                assertThat(zoneFile).contains("127.0.0.60 :127.0.0.6:");
            } else {
                assertThat(zoneFile).doesNotContain("127.0.0.60");
            }
        }
        assertThat(metrics(webA).counter("spamtrap_protocol_pregreet")).isGreaterThanOrEqualTo(1.0);

        // the shipped fail2ban filter bans the trap hitter from this very log, never the protocol class
        Path filter = ProjectLayout.locate().root().resolve("docs/fail2ban/james-spamtrap.conf");
        Process f2b = new ProcessBuilder("fail2ban-regex", "--print-all-matched", a.root().resolve("james.log").toString(), filter.toString())
            .redirectErrorStream(true).start();
        String matched = new String(f2b.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(f2b.waitFor(60, TimeUnit.SECONDS)).isTrue();
        int from = matched.indexOf("Matched line(s):");
        assertThat(from).as(matched).isNotNegative();
        String lines = matched.substring(from, matched.indexOf("`-", from));
        assertThat(lines).as(matched).contains("client=\"127.0.0.64\"").doesNotContain("client=\"127.0.0.60\"");
    }

    @Test
    void aClientThatWaitsIsRememberedAndGetsThePlainGreetingAtOnceOnBothNodes() throws Exception {
        try (SmtpClient c = SmtpClient.connect("127.0.0.61", a.smtpPort())) {
            assertThat(c.reply()).matches(TESTED);
            assertThat(c.command("EHLO patient.example.org")).startsWith("250");
            c.command("QUIT");
        }
        Await.until(WAIT, "the pass stored", () -> SharedCassandra.cql().execute("SELECT client FROM " + KEYSPACE + ".pregreet_passed WHERE client = '127.0.0.61'")
            .one() != null, ok -> ok);
        try (SmtpClient c = SmtpClient.connect("127.0.0.61", a.smtpPort())) {
            assertThat(c.reply()).as("node A: the plain greeting").isEqualTo(GREETING);
            c.command("QUIT");
        }
        // node B learns the pass from the change feed; until then it tests (and this client waits, as it should)
        Await.until(WAIT, "node B greets 127.0.0.61 plainly", () -> {
            try (SmtpClient c = SmtpClient.connect("127.0.0.61", b.smtpPort())) {
                String g = c.reply();
                c.command("QUIT");
                return g;
            }
        }, g -> g.equals(GREETING));
        assertThat(listing(webA, "127.0.0.61")).isEmpty();
    }

    @Test
    void relayAuthorizedAndAllowlistedClientsNeverWait() {
        try (SmtpClient c = SmtpClient.connect("127.0.0.1", a.smtpPort())) {
            assertThat(c.reply()).as("127.0.0.1 is in authorizedAddresses").isEqualTo(GREETING);
            c.command("QUIT");
        }
        assertThat(webA.request("PUT", "/spamtrap/allowlist/127.0.0.69", "").statusCode()).isEqualTo(204);
        Await.until(WAIT, "127.0.0.69 allowlisted: greeted plainly", () -> {
            try (SmtpClient c = SmtpClient.connect("127.0.0.69", a.smtpPort())) {
                String g = c.reply();
                c.command("QUIT");
                return g;
            }
        }, g -> g.equals(GREETING));
        // and an allowlisted client talking at once is never caught
        try (SmtpClient c = SmtpClient.connect("127.0.0.69", a.smtpPort())) {
            c.write("EHLO eager.friend\r\n");
            assertThat(c.reply()).isEqualTo(GREETING);
            assertThat(c.reply()).startsWith("250");
        }
        assertThat(listing(webA, "127.0.0.69")).isEmpty();
        assertThat(a.log()).doesNotContain("spamtrap protocol client=\"127.0.0.69\"");
    }

    @Test
    void httpAndHeaderLinesAsCommandsAreRecorded() {
        try (SmtpClient c = SmtpClient.connect("127.0.0.62", a.smtpPort())) {
            assertThat(c.reply()).endsWith(GREETING);
            assertThat(c.command("GET / HTTP/1.1")).startsWith("500");
        }
        try (SmtpClient c = SmtpClient.connect("127.0.0.63", a.smtpPort())) {
            assertThat(c.reply()).endsWith(GREETING);
            c.command("EHLO sender.test");
            assertThat(c.command("Subject: hi")).startsWith("500");
        }
        assertThat(Await.until(WAIT, "http listing", () -> listing(webA, "127.0.0.62"), s -> !s.isEmpty())).contains("\"sensor\":\"http\"")
            .contains("\"class\":\"protocol\"");
        assertThat(Await.until(WAIT, "header listing", () -> listing(webA, "127.0.0.63"), s -> !s.isEmpty())).contains("\"sensor\":\"header\"");
        assertThat(a.log()).contains("spamtrap protocol client=\"127.0.0.62\" class=\"protocol\" sensor=\"http\" action=\"tarpit\" sent=\"GET\"");
    }

    @Test
    void observeModeRefusesNothingWhileCountersAndWebAdminShowWhatWouldHaveBeen() {
        try (SmtpClient c = SmtpClient.connect("127.0.0.70", b.smtpPort())) {
            c.write("EHLO early.bot\r\n");
            assertThat(c.reply()).matches(TESTED); // the greeting after the wait, as for anyone
            assertThat(c.reply()).startsWith("250"); // its early EHLO answered as usual
            assertThat(c.command("GET / HTTP/1.1")).startsWith("500"); // a sensor catches a connection once
            c.command("QUIT");
        }
        assertThat(Await.until(WAIT, "observed listing", () -> listing(webB, "127.0.0.70"), s -> !s.isEmpty()))
            .contains("\"observed\":true").contains("\"reason\":\"observe:protocol:pregreet\"");
        assertThat(webB.get("/spamtrap/offenders?observed=true")).contains("127.0.0.70");
        assertThat(webB.get("/spamtrap/offenders?observed=false")).doesNotContain("127.0.0.70");
        // it returns to B: greeted at once (listed clients are not tested) and delivered; only counted
        List<String> replies = SmtpClient.deliver("127.0.0.70", b.smtpPort(), "someone@sender.test", List.of("alice@example.com"), "observed");
        assertThat(replies.get(0)).isEqualTo(GREETING);
        assertThat(replies.get(replies.size() - 2)).startsWith("250 2.6.0");
        assertThat(Await.until(WAIT, "would-refuse counted", () -> metrics(webB).counter("spamtrap_would_refuse_pregreet"), v -> v >= 2.0))
            .as("caught once, let through once").isEqualTo(2.0);
        assertThat(metrics(webB).counter("spamtrap_protocol_pregreet_observe")).isEqualTo(1.0);
        assertThat(metrics(webB).counter("spamtrap_refusals")).as("nothing refused").isEqualTo(0.0);
        // and to A, once A has the observed listing from the feed: let through as well
        Await.until(WAIT, "node A knows the observed listing", () -> {
            try (SmtpClient c = SmtpClient.connect("127.0.0.70", a.smtpPort())) {
                String g = c.reply();
                c.command("QUIT");
                return g;
            }
        }, g -> g.equals(GREETING));
        List<String> atA = SmtpClient.deliver("127.0.0.70", a.smtpPort(), "someone@sender.test", List.of("alice@example.com"), "observed-a");
        assertThat(atA.get(atA.size() - 2)).startsWith("250 2.6.0");
        assertThat(Await.until(WAIT, "would-refuse on A", () -> metrics(webA).counter("spamtrap_would_refuse"), v -> v >= 1.0)).isGreaterThanOrEqualTo(1.0);
        assertThat(b.log()).contains("spamtrap refusal client=\"127.0.0.70\" action=\"observe\"");
        assertThat(webB.get("/spamtrap/export/rbldnsd?protocol=true")).doesNotContain("127.0.0.70");
    }

    @Test
    void observeModeForTrapsListsTheHitButActsOnNothingOnThatNode() {
        SmtpClient.deliver("127.0.0.72", b.smtpPort(), "bot@spam.test", List.of("trap@example.com"), "observed-trap");
        assertThat(Await.until(WAIT, "the trap listing", () -> listing(webB, "127.0.0.72"), s -> !s.isEmpty()))
            .contains("\"reason\":\"trap\"").contains("\"class\":\"trap\"").contains("\"observed\":true");
        // back on B: greeted and delivered, only counted
        List<String> replies = SmtpClient.deliver("127.0.0.72", b.smtpPort(), "bot@spam.test", List.of("alice@example.com"), "after-trap");
        assertThat(replies.get(0)).isEqualTo(GREETING);
        assertThat(replies.get(replies.size() - 2)).startsWith("250 2.6.0");
        assertThat(Await.until(WAIT, "would-refuse (trap)", () -> metrics(webB).counter("spamtrap_would_refuse_trap"), v -> v >= 1.0)).isEqualTo(1.0);
        assertThat(b.log()).contains("spamtrap refusal client=\"127.0.0.72\" action=\"observe\"");
        assertThat(webB.get("/spamtrap/export/plain")).doesNotContain("127.0.0.72");
        // node A does not observe traps: the same listing is refused there (tarpitted: its greeting comes late)
        Await.until(WAIT, "node A tarpits 127.0.0.72", () -> a.log(), l -> l.contains("spamtrap refusal client=\"127.0.0.72\" action=\"tarpit\"")
            || tryConnect("127.0.0.72", a.smtpPort()));
    }

    /** Connects and quits; false (so the caller keeps waiting). */
    private static boolean tryConnect(String ip, int port) {
        try (SmtpClient c = SmtpClient.connect(ip, port)) {
            c.reply();
            c.command("QUIT");
        }
        return false;
    }

    @Test
    void swaksAndPythonsSmtplibWaitForTheGreetingAndAreNeverRecorded() throws Exception {
        Process swaks = new ProcessBuilder("swaks", "--server", "127.0.0.1:" + a.smtpPort(), "--local-interface", "127.0.0.66",
            "--from", "friend@good.test", "--to", "alice@example.com", "--header", "Subject: swaks", "--timeout", "60s")
            .redirectErrorStream(true).start();
        String swaksOut = new String(swaks.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(swaks.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(swaks.exitValue()).as(swaksOut).isZero();
        assertThat(swaksOut).contains("<-  220-").contains("250 2.6.0");
        // an authenticated submission (swaks AUTH PLAIN), as a mail client sends it
        Process auth = new ProcessBuilder("swaks", "--server", "127.0.0.1:" + a.smtpPort(), "--local-interface", "127.0.0.68",
            "--auth", "PLAIN", "--auth-user", "alice@example.com", "--auth-password", "alice",
            "--from", "alice@example.com", "--to", "alice@example.com", "--header", "Subject: submission", "--timeout", "60s")
            .redirectErrorStream(true).start();
        String authOut = new String(auth.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(auth.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(auth.exitValue()).as(authOut).isZero();
        assertThat(authOut).contains("<-  220-").contains("235 ").contains("250 2.6.0");
        String py = "import smtplib\n"
            + "s = smtplib.SMTP('127.0.0.1', " + a.smtpPort() + ", source_address=('127.0.0.67', 0), timeout=60)\n"
            + "s.sendmail('friend@good.test', ['alice@example.com'], 'Subject: smtplib\\r\\n\\r\\nhello\\r\\n')\n"
            + "s.quit()\nprint('sent')\n";
        Process python = new ProcessBuilder("python3", "-c", py).redirectErrorStream(true).start();
        String pyOut = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(python.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(python.exitValue()).as(pyOut).isZero();
        assertThat(pyOut).contains("sent");
        Await.until(WAIT, "both passes stored", () -> SharedCassandra.cql().execute("SELECT client FROM " + KEYSPACE
            + ".pregreet_passed WHERE client IN ('127.0.0.66', '127.0.0.67')").all().size(), n -> n == 2);
        assertThat(listing(webA, "127.0.0.66")).isEmpty();
        assertThat(listing(webA, "127.0.0.68")).isEmpty();
        assertThat(listing(webA, "127.0.0.67")).isEmpty();
        assertThat(a.log()).doesNotContain("client=\"127.0.0.66\"").doesNotContain("client=\"127.0.0.67\"").doesNotContain("client=\"127.0.0.68\"");
    }
}
