package dev.spamtrap.it.relay;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.firewall.Netns;
import dev.spamtrap.it.stack.EximProcess;
import dev.spamtrap.it.stack.JamesProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real Exim 4.96 (Debian's {@code exim4-daemon-light}, unpacked by it/scripts/provision-exim, since it cannot be
 * installed beside Postfix) as the trusted backup MX in front of a real James, in a {@code trp...} network namespace
 * with its own Cassandra. Exim listens on 127.0.0.60:2526 and relays to James on 127.0.0.1:2525 from 127.0.0.60.
 */
class EximBackupMxTest {
    static final String RELAY = "127.0.0.60";
    static final Duration WAIT = Duration.ofSeconds(45);
    static final String EXIM_UID = "64900";
    static JamesInNamespace stack;
    static String NS;
    static List<String> IN_NS;
    static Path dir;
    static Path exim;
    static JamesProcess james;
    static Process eximDaemon;

    @BeforeAll
    static void start() throws Exception {
        exim = EximProcess.provisionedBinary();
        assertThat(Files.isExecutable(Path.of("/usr/bin/swaks"))).as("swaks installed").isTrue();
        stack = JamesInNamespace.start("exim-mx", "trpx", RELAY, 19043, 17001, configured -> {
            if (Boolean.getBoolean("it.exim.plainJames")) {
                // the same James without the spamtrap SMTP handlers and mailets (the runtime still loads): ours or James's own?
                configured.edit("smtpserver.xml", s -> s.replaceAll("(?s)<handler class=\"dev\\.spamtrap[^\"]*\"\\s*/>", "")
                        .replaceAll("(?s)<handler class=\"dev\\.spamtrap[^\"]*\">.*?</handler>", ""))
                    .edit("mailetcontainer.xml", s -> s.replaceAll("(?s)<mailet match=\"dev\\.spamtrap[^\"]*\"[^>]*>.*?</mailet>", ""));
            }
            return configured
                .spamtrapProperty("refresh.interval", "1s")
                .refusingAtConnect()
                .trustedRelays(RELAY)
                .edit("smtpserver.xml", s -> s.replace("<authorizedAddresses>127.0.0.1/32</authorizedAddresses>", "<authorizedAddresses>127.0.0.1/32, " + RELAY + "/32</authorizedAddresses>"));
        });
        NS = stack.namespace;
        IN_NS = stack.inNamespace;
        dir = stack.dir;
        james = stack.james();
        // Exim's built-in user, in this namespace only (ip netns exec mounts /etc/netns/NS/* over /etc/*)
        Path etc = Path.of("/etc/netns", NS);
        Files.createDirectories(etc);
        Files.writeString(etc.resolve("passwd"), Files.readString(Path.of("/etc/passwd")) + "Debian-exim:x:" + EXIM_UID + ":" + EXIM_UID
            + "::/nonexistent:/usr/sbin/nologin\n");
        Files.writeString(etc.resolve("group"), Files.readString(Path.of("/etc/group")) + "Debian-exim:x:" + EXIM_UID + ":\n");
        startExim();
    }

    static void startExim() throws IOException {
        Path spool = dir.resolve("exim/spool");
        Path log = dir.resolve("exim/log");
        Files.createDirectories(spool);
        Files.createDirectories(log);
        // root here has no CAP_DAC_OVERRIDE: the directories must be writable by whoever Exim is at the moment
        Netns.must("chmod", "-R", "777", spool.toString(), log.toString());
        Path conf = dir.resolve("exim/exim.conf");
        Files.writeString(conf, String.join("\n",
            "exim_path = " + exim,
            "keep_environment =",
            "primary_hostname = mx3.example.com",
            "spool_directory = " + spool,
            "log_file_path = " + log + "/%slog",
            "daemon_smtp_ports = 2526",
            "local_interfaces = " + RELAY,
            "domainlist relay_to_domains = example.com",
            "host_lookup =",
            "rfc1413_hosts =",
            "acl_smtp_rcpt = acl_check_rcpt",
            "begin acl",
            "acl_check_rcpt:",
            "  accept domains = +relay_to_domains",
            "  deny message = relay not permitted",
            "begin routers",
            "to_james:",
            "  driver = manualroute",
            "  domains = +relay_to_domains",
            "  transport = remote_smtp",
            "  route_list = * 127.0.0.1::2525 byname",
            "  self = send",
            "begin transports",
            "remote_smtp:",
            "  driver = smtp",
            "  interface = " + RELAY,
            // Exim's default: QUIT pipelined after the final dot, then a half-close (see docs/clients.md)
            "begin retry",
            "* * F,10m,5s",
            ""));
        List<String> cmd = new ArrayList<>(IN_NS);
        // -bdf: the daemon stays in the foreground, so stopping this process stops it (-bd would detach)
        cmd.addAll(List.of(exim.toString(), "-C", conf.toString(), "-bdf", "-q5s"));
        eximDaemon = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("exim/daemon.out").toFile()).start();
        Await.until(Duration.ofSeconds(20), "Exim listening", () -> Netns.run(Netns.in(NS, "swaks", "--server", RELAY + ":2526", "--quit-after",
            "CONNECT", "--timeout", "2")).code, c -> c == 0);
    }

    @AfterAll
    static void stop() throws Exception {
        if (eximDaemon != null) {
            eximDaemon.descendants().forEach(ProcessHandle::destroy);
            eximDaemon.destroy();
            if (!eximDaemon.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                eximDaemon.destroyForcibly();
            }
        }
        if (stack != null) {
            stack.close();
        }
    }

    static String webAdmin(String method, String path, String body) {
        List<String> cmd = new ArrayList<>(Netns.in(NS, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method,
            "http://127.0.0.1:" + james.webAdminPort() + path));
        if (body != null) {
            cmd.addAll(List.of("-d", body));
        }
        return Netns.run(cmd).output;
    }

    static void swaks(String from, String helo, String to, String subject) {
        Netns.Result r = Netns.run(Netns.in(NS, "swaks", "--server", RELAY + ":2526", "--local-interface", from, "--helo", helo,
            "--from", "bot@spam.test", "--to", to, "--header", "Subject: " + subject, "--body", "body of " + subject, "--timeout", "20"));
        assertThat(r.code).as(r.output).isZero();
    }

    static String eximLog() {
        try {
            Path log = dir.resolve("exim/log/mainlog");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** How many messages with this subject alice's INBOX holds (IMAP SEARCH, from inside the namespace). */
    static int inboxCount(String subject) {
        String out = Netns.run(Netns.in(NS, "curl", "-s", "--user", "alice@example.com:alice", "imap://127.0.0.1:" + james.imapPort() + "/INBOX",
            "-X", "SEARCH SUBJECT " + subject)).output;
        Matcher m = Pattern.compile("\\* SEARCH([ 0-9]*)").matcher(out);
        return m.find() ? m.group(1).trim().isEmpty() ? 0 : m.group(1).trim().split(" +").length : -1;
    }

    @Test
    void aTrapRelayedByEximIsRecordedAgainstTheRealClientNeverItsHeloLiteral() {
        swaks("127.0.0.75", "[127.0.0.98]", "trap@example.com", "via-exim-helo-literal");
        Await.until(WAIT, "offender 127.0.0.75", () -> webAdmin("GET", "/spamtrap/offenders/127.0.0.75", null), s -> s.equals("200"));
        for (String never : List.of("127.0.0.98", RELAY)) {
            assertThat(webAdmin("GET", "/spamtrap/offenders/" + never, null)).as(never).isEqualTo("404");
        }
        assertThat(Await.until(WAIT, "relayed hit event", james::log, l -> l.contains("spamtrap hit client=\"127.0.0.75\"")))
            .contains("via=\"relay=" + RELAY + "\"");
    }

    /**
     * Exim 4.96 as Debian ships it pipelines QUIT after the final dot and half-closes; James 3.8.1 alone then often
     * drops the reply to the dot and Exim delivers again (two copies; reproduce with -Dit.exim.plainJames=true).
     * OffenderConnectHandler keeps a half-closed connection open for its replies: each message arrives once.
     */
    @Test
    void legitimateMessagesRelayedByEximAreDeliveredExactlyOnce() {
        List<String> subjects = List.of("exim-once-a", "exim-once-b", "exim-once-c");
        for (String subject : subjects) {
            swaks("127.0.0.76", "good.example", "alice@example.com", subject);
        }
        Await.until(WAIT, "Exim delivered them", EximBackupMxTest::eximLog, l -> l.split("=> alice@example.com", -1).length - 1 >= subjects.size());
        // give a retry (queue runs every 5 s here) the time to happen, then count
        try {
            Thread.sleep(12_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String log = eximLog();
        for (String subject : subjects) {
            assertThat(inboxCount(subject)).as(subject + ": copies in alice's INBOX; Exim log:\n" + log).isEqualTo(1);
        }
        assertThat(log).as("Exim log").doesNotContain("== alice@example.com").doesNotContain("Remote host closed connection");
    }
}
