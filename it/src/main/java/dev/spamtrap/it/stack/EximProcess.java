package dev.spamtrap.it.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Exim 4 (Debian's, unpacked by it/scripts/provision-exim) relaying every recipient to one SMTP server,
 * as a backup MX or smarthost in front of James would. It runs in the foreground ({@code -bdf}) as user nobody
 * with its own configuration, spool and logs under ROOT, so it needs nothing of the machine's MTA set-up.
 */
public final class EximProcess implements AutoCloseable {
    private final Path binary;
    private final Path root;
    private final String listenAddress;
    private final int port;
    private final String relayHost;
    private final int relayPort;
    private final boolean avoidPipelining;
    private final ManagedProcess process;

    /**
     * @param avoidPipelining {@code hosts_avoid_pipelining = *} on the transport to James: Exim then waits for
     *                        the reply to the final dot before it sends QUIT (docs/deploy.md says why)
     */
    public EximProcess(Path binary, Path root, String listenAddress, int port, String relayHost, int relayPort, boolean avoidPipelining) {
        this.binary = binary;
        this.root = root.toAbsolutePath();
        this.listenAddress = listenAddress;
        this.port = port;
        this.relayHost = relayHost;
        this.relayPort = relayPort;
        this.avoidPipelining = avoidPipelining;
        this.process = new ManagedProcess("exim", this.root.resolve("exim.pid"), this.root.resolve("exim.out"));
    }

    /**
     * The Exim binary it/scripts/provision-exim unpacked (it unpacks it once per machine, as root).
     * @throws IllegalStateException with the script's reason when there is none
     */
    public static Path provisionedBinary() {
        String out = command(List.of(ProjectLayout.locate().root().resolve("it/scripts/provision-exim").toString()), 600).strip();
        return Path.of(out.substring(out.lastIndexOf('\n') + 1));
    }

    public EximProcess start(Duration timeout) {
        try {
            Dirs.deleteRecursively(root);
            Files.createDirectories(root.resolve("spool"));
            Files.createDirectories(root.resolve("log"));
            chownToNobody(root); // spool and logs: written by Exim as nobody
            Files.writeString(root.resolve("exim.conf"), configuration()); // root's, as Exim requires of -C files
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        process.start(List.of(binary.toString(), "-C", root.resolve("exim.conf").toString(), "-bdf"), root);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!accepts()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("Exim did not start: " + process.logTail(10) + "\n" + panicLog());
            }
            sleep(100);
        }
        return this;
    }

    private boolean accepts() {
        try (java.net.Socket probe = new java.net.Socket()) {
            probe.connect(new java.net.InetSocketAddress(listenAddress, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public String listenAddress() { return listenAddress; }
    public int port() { return port; }

    /** Delivers what is queued now (all retry times ignored), and waits until that run ends. */
    public void runQueue() {
        command(List.of(binary.toString(), "-C", root.resolve("exim.conf").toString(), "-qff"), 120);
    }

    /** Messages still in Exim's queue ({@code exim -bpc}). */
    public int queued() {
        return Integer.parseInt(command(List.of(binary.toString(), "-C", root.resolve("exim.conf").toString(), "-bpc"), 30).strip());
    }

    /** Runs a command to its end and returns what it printed; a non-zero exit (with what it printed) or a time-out is an error. */
    private static String command(List<String> command, int timeoutSeconds) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeoutSeconds + " s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited with " + p.exitValue() + ": " + out.strip());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The main log: the daemon's file, and the lines its delivery processes wrote to the daemon's output (run
     * with a {@code -C} file they drop root, and then cannot always open the file the daemon created).
     */
    public String mainLog() {
        return read(root.resolve("log/mainlog")) + process.logText();
    }

    public String panicLog() {
        return read(root.resolve("log/paniclog"));
    }

    /** Log lines of deliveries Exim deferred (to retry later), e.g. when the connection closed after the dot. */
    public List<String> deferrals() {
        return mainLog().lines().filter(l -> l.contains(" == ")).toList();
    }

    /** How many deliveries Exim logged as done ({@code =>}). */
    public long deliveries() {
        return mainLog().lines().filter(l -> l.contains(" => ")).count();
    }

    private String configuration() {
        return String.join("\n",
            "exim_path = " + binary,
            "primary_hostname = relay.test",
            "daemon_smtp_ports = " + port,
            "local_interfaces = " + listenAddress,
            "spool_directory = " + root.resolve("spool"),
            "log_file_path = " + root.resolve("log") + "/%slog",
            "exim_user = nobody",
            "exim_group = nogroup",
            "acl_smtp_rcpt = accept_all",
            "host_lookup =",
            "rfc1413_hosts =",
            "tls_advertise_hosts =",
            "queue_run_max = 1",
            "begin acl",
            "accept_all:",
            "  accept",
            "begin routers",
            "to_james:",
            "  driver = manualroute",
            "  route_list = * " + relayHost + "::" + relayPort,
            "  transport = to_james",
            "  self = send",
            "begin transports",
            "to_james:",
            "  driver = smtp",
            avoidPipelining ? "  hosts_avoid_pipelining = *" : "",
            "begin retry",
            "* * F,1h,15s",
            "");
    }

    private static void chownToNobody(Path dir) {
        command(List.of("chown", "-R", "nobody:nogroup", dir.toString()), 30);
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        process.close();
    }
}
