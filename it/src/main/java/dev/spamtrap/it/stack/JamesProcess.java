package dev.spamtrap.it.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A real Apache James 3.8.1 memory server in its own JVM, laid out as an administrator would: the sample
 * {@code conf/james} files in {@code ROOT/conf}, our drop-in jar in {@code ROOT/extensions-jars}.
 * Tests change individual files with {@link #edit} (ports, keyspace, handler parameters) before start.
 */
public final class JamesProcess implements AutoCloseable {
    private final Path root;
    private final Map<String, UnaryOperator<String>> edits = new LinkedHashMap<>();
    private final ManagedProcess process;
    private int smtpPort = 2525;
    private int imapPort = 1143;
    private int webAdminPort = 8000;
    private String cassandraContactPoint = "127.0.0.1:9042";
    private boolean withExtension = true;
    private final List<String> prefix = new ArrayList<>();
    private String javaBinary = CassandraProcess.javaBinary();
    private final List<String> lists = new ArrayList<>();

    public JamesProcess(Path root) {
        this.root = root.toAbsolutePath();
        this.process = new ManagedProcess("james", this.root.resolve("james.pid"), this.root.resolve("james.log"));
    }

    /** Picks free ports for SMTP, IMAP and WebAdmin (tests run several servers one after another). */
    public JamesProcess randomPorts() {
        smtpPort = Ports.free();
        imapPort = Ports.free();
        webAdminPort = Ports.free();
        return this;
    }

    /** Runs James under a prefix, e.g. {@code ip netns exec NS} for firewall tests. */
    public JamesProcess prefix(List<String> commandPrefix) {
        prefix.clear();
        prefix.addAll(commandPrefix);
        return this;
    }

    /** Runs James on this {@code java} (e.g. a Java 11 runtime, James 3.8.1's own) instead of the test JVM's. */
    public JamesProcess javaBinary(Path java) {
        this.javaBinary = java.toAbsolutePath().toString();
        return this;
    }

    public JamesProcess smtpPort(int port) {
        smtpPort = port;
        return this;
    }

    public JamesProcess cassandra(String contactPoint) {
        this.cassandraContactPoint = contactPoint;
        return this;
    }

    /** Plain James, for baselines: no spamtrap handlers, matcher or jar. */
    public JamesProcess withoutExtension() {
        this.withExtension = false;
        return this;
    }

    /** Changes the text of one configuration file (relative to ROOT/conf) before start. */
    public JamesProcess edit(String file, UnaryOperator<String> change) {
        edits.merge(file, change, (a, b) -> s -> b.apply(a.apply(s)));
        return this;
    }

    /**
     * Returning offenders refused at once, decided at connect. The sample configuration tarpits them and, where AUTH is
     * offered, decides at MAIL FROM ({@code checkAt=auto}); tests about the refusal itself say so with this.
     */
    public JamesProcess refusingAtConnect() {
        return offenderMode("refuse").offenderCheckAt("connect");
    }

    /** {@code OffenderConnectHandler}'s {@code mode} ({@code tarpit} in the sample). */
    public JamesProcess offenderMode(String mode) {
        return edit("smtpserver.xml", s -> replaceOnce(s, "<mode>tarpit</mode>", "<mode>" + mode + "</mode>"));
    }

    /** {@code OffenderConnectHandler}'s {@code checkAt} ({@code auto} in the sample). */
    public JamesProcess offenderCheckAt(String when) {
        return edit("smtpserver.xml", s -> replaceOnce(s, "<checkAt>auto</checkAt>", "<checkAt>" + when + "</checkAt>"));
    }

    /** {@code TrapRcptHook}'s {@code mode} ({@code accept} in the sample). */
    public JamesProcess trapMode(String mode) {
        return edit("smtpserver.xml", s -> replaceOnce(s, "<mode>accept</mode>", "<mode>" + mode + "</mode>"));
    }

    /** {@code trustedRelays} of spamtrap.properties, comma-separated (none in the sample). */
    public JamesProcess trustedRelays(String relays) {
        return spamtrapProperty("trustedRelays", relays);
    }

    /** A sample text that is not there any more must fail the test, not leave the default silently in place. */
    static String replaceOnce(String text, String sample, String replacement) {
        int at = text.indexOf(sample);
        if (at < 0 || text.indexOf(sample, at + 1) >= 0) {
            throw new IllegalStateException("smtpserver.xml: expected exactly one '" + sample + "' in the sample configuration");
        }
        return text.replace(sample, replacement);
    }

    /**
     * One more list loaded from {@code url} ({@code lists}, {@code list.<name>.url}, {@code .action}, {@code .message} in
     * spamtrap.properties; none in the sample), reloaded every {@code refresh}.
     */
    public JamesProcess blocklist(String name, String url, String action, String message, String refresh) {
        lists.add(name);
        String names = String.join(", ", lists);
        return spamtrapProperty("lists", names)
            .spamtrapProperty("list." + name + ".url", url)
            .spamtrapProperty("list." + name + ".action", action)
            .spamtrapProperty("list." + name + ".message", message)
            .spamtrapProperty("list." + name + ".refresh", refresh);
    }

    public JamesProcess spamtrapProperty(String key, String value) {
        return edit("spamtrap.properties", s -> PropertiesText.set(s, key, value));
    }

    public Path root() { return root; }
    public Path conf() { return root.resolve("conf"); }
    public int smtpPort() { return smtpPort; }
    public int imapPort() { return imapPort; }
    public int webAdminPort() { return webAdminPort; }

    /** Writes ROOT/conf and ROOT/extensions-jars from the sample configuration. */
    public JamesProcess prepare() {
        ProjectLayout layout = ProjectLayout.locate();
        try {
            Files.createDirectories(conf());
            try (Stream<Path> files = Files.list(layout.jamesConf())) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.copy(f, conf().resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            rewrite("smtpserver.xml", s -> s.replace("127.0.0.1:2525", "127.0.0.1:" + smtpPort));
            rewrite("imapserver.xml", s -> s.replace("127.0.0.1:1143", "127.0.0.1:" + imapPort));
            rewrite("webadmin.properties", s -> s.replace("port=8000", "port=" + webAdminPort));
            rewrite("spamtrap.properties", s -> PropertiesText.set(s, "cassandra.contactPoints", cassandraContactPoint));
            Path ext = root.resolve("extensions-jars");
            Files.createDirectories(ext);
            if (withExtension) {
                Files.copy(layout.extensionJar(), ext.resolve("james-spamtrap-extension.jar"), StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.deleteIfExists(ext.resolve("james-spamtrap-extension.jar"));
                rewrite("smtpserver.xml", JamesProcess::withoutSpamtrapHandlers);
                rewrite("mailetcontainer.xml", JamesProcess::withoutSpamtrapMailets);
                // Plain James has no spamtrap classes: no extension module, no spamtrap routes.
                Files.deleteIfExists(conf().resolve("extensions.properties"));
                rewrite("webadmin.properties", JamesProcess::withoutSpamtrapRoutes);
            }
            // James 3.8.1 looks client names up on the SMTP event loop (Received header, remote host
            // attribute). This machine's resolver does not answer, so each lookup would stall every
            // connection of the loop for seconds; the harness gives the JVM a hosts file instead.
            writeHostsFile();
            for (Map.Entry<String, UnaryOperator<String>> e : edits.entrySet()) {
                rewrite(e.getKey(), e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** The hosts file the JVM resolves names with (ROOT/conf/hosts), for roots a test lays out itself. */
    public JamesProcess writeHostsFile() throws IOException {
        HostsFile.write(conf().resolve("hosts"));
        return this;
    }

    /** This machine's name (James's task manager needs it to resolve), from the system's own files. */
    static String withoutSpamtrapHandlers(String xml) {
        return xml.replaceAll("(?s)<handler class=\"dev\\.spamtrap[^\"]*\"\\s*/>", "")
            .replaceAll("(?s)<handler class=\"dev\\.spamtrap[^\"]*\">.*?</handler>", "");
    }

    static String withoutSpamtrapMailets(String xml) {
        return xml.replaceAll("<mailet\\b[^>]*\"dev\\.spamtrap[^>]*/>", "")
            .replaceAll("(?s)<mailet\\b[^>]*\"dev\\.spamtrap[^>]*>.*?</mailet>", "");
    }

    static String withoutSpamtrapRoutes(String properties) {
        return properties.replaceAll(",\\\\\\s*dev\\.spamtrap[\\w.]*", "");
    }

    private void rewrite(String file, UnaryOperator<String> change) throws IOException {
        Path p = conf().resolve(file);
        String before = Files.exists(p) ? Files.readString(p) : "";
        Files.writeString(p, change.apply(before));
    }

    /** Starts James and waits until SMTP accepts connections. */
    public JamesProcess start(Duration timeout) {
        ProjectLayout layout = ProjectLayout.locate();
        if (!Files.exists(conf().resolve("smtpserver.xml"))) {
            prepare();
        }
        process.start(command(layout), root);
        try {
            awaitLog("JAMES server started", timeout);
            Ports.awaitOpen(prefix, "127.0.0.1", smtpPort, timeout, process.process(), "James");
        } catch (IllegalStateException e) {
            String tail = process.logTail(60);
            process.close();
            throw new IllegalStateException(e.getMessage() + "\n--- " + process.log() + " ---\n" + tail, e);
        }
        return this;
    }

    /** The JVM command line of this James (under the prefix, if any), started with ROOT as working directory. */
    private List<String> command(ProjectLayout layout) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(List.of(javaBinary,
            "-Xms128m", "-Xmx768m",
            "-Dworking.directory=" + root,
            "-Dlogback.configurationFile=" + conf().resolve("logback.xml"),
            "-Djdk.net.hosts.file=" + conf().resolve("hosts"),
            "-Djames.exit.on.startup.error=true",
            "-cp", layout.jamesLib() + "/*",
            "org.apache.james.MemoryJamesServerMain"));
        return cmd;
    }

    /**
     * Starts James expecting it to refuse its configuration; returns its log once it has exited.
     */
    public String startExpectingFailure(Duration timeout) {
        process.start(command(ProjectLayout.locate()), root);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                String log = process.logText();
                process.close();
                return log;
            }
            if (Ports.isOpen("127.0.0.1", smtpPort)) {
                process.close();
                throw new IllegalStateException("James started although its configuration is bad; log:\n" + process.logTail(40));
            }
            Ports.sleep(100);
        }
        String log = process.logText();
        process.close();
        throw new IllegalStateException("James neither started nor exited within " + timeout + "; log:\n" + log);
    }

    private void awaitLog(String marker, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("James exited with code " + process.process().exitValue());
            }
            if (process.logText().contains(marker)) {
                return;
            }
            Ports.sleep(100);
        }
        throw new IllegalStateException("James did not log '" + marker + "' within " + timeout);
    }

    public String log() {
        return process.logText();
    }

    public long pid() {
        return process.pid();
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.close();
    }

    /** SIGKILL: a crash (no shutdown hooks run). {@link #start} starts it again on the same root. */
    public void kill() {
        process.kill();
    }
}
