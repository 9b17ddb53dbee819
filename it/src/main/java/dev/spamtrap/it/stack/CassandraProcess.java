package dev.spamtrap.it.stack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real single-node Cassandra 5.0 in its own Java 17 process, started from the cassandra-all jars the
 * build copied to it/cassandra-runtime/target/lib. Its data stays in {@code dir}, so a restart keeps it.
 */
public final class CassandraProcess implements AutoCloseable {
    private final Path dir;
    private final int nativePort;
    private final int storagePort;
    private final ManagedProcess process;
    private final List<String> prefix = new ArrayList<>();
    private String address = "127.0.0.1";
    private String seeds;
    private String token = "0";
    private String heap = "512M";

    public CassandraProcess(Path dir, int nativePort, int storagePort) {
        this.dir = dir.toAbsolutePath();
        this.nativePort = nativePort;
        this.storagePort = storagePort;
        this.process = new ManagedProcess("cassandra", this.dir.resolve("cassandra.pid"), this.dir.resolve("logs/stdout.log"));
    }

    /** Runs Cassandra under a prefix, e.g. {@code ip netns exec NS} for firewall tests. */
    public CassandraProcess prefix(List<String> commandPrefix) {
        prefix.clear();
        prefix.addAll(commandPrefix);
        return this;
    }

    /**
     * Makes this node one of a cluster: it listens on {@code address} (e.g. 127.0.0.2; every node may use the same
     * ports), gossips with {@code seeds} ("127.0.0.1:7000,..."), and owns {@code initialToken} (one token per node).
     */
    public CassandraProcess clusterNode(String address, String seeds, String initialToken) {
        this.address = address;
        this.seeds = seeds;
        this.token = initialToken;
        return this;
    }

    /** The maximum heap (-Xmx), 512M by default. */
    public CassandraProcess heap(String size) {
        this.heap = size;
        return this;
    }

    public String address() {
        return address;
    }

    /** Evenly spread Murmur3 tokens for an {@code n}-node cluster, one per node. */
    public static List<String> tokens(int n) {
        List<String> out = new ArrayList<>();
        java.math.BigInteger range = java.math.BigInteger.TWO.pow(64);
        java.math.BigInteger min = java.math.BigInteger.TWO.pow(63).negate();
        for (int i = 0; i < n; i++) {
            out.add(min.add(range.multiply(java.math.BigInteger.valueOf(i)).divide(java.math.BigInteger.valueOf(n))).toString());
        }
        return out;
    }

    public int nativePort() {
        return nativePort;
    }

    public String contactPoint() {
        return address + ":" + nativePort;
    }

    public Path dir() {
        return dir;
    }

    public CassandraProcess start(Duration timeout) {
        ProjectLayout layout = ProjectLayout.locate();
        try {
            Files.createDirectories(dir.resolve("logs"));
            String yaml = resource("cassandra.yaml.template")
                .replace("@DIR@", dir.toString())
                .replace("@STORAGE_PORT@", Integer.toString(storagePort))
                .replace("@NATIVE_PORT@", Integer.toString(nativePort))
                .replace("@ADDRESS@", address)
                .replace("@SEEDS@", seeds != null ? seeds : address + ":" + storagePort)
                .replace("@TOKEN@", token);
            Files.writeString(dir.resolve("cassandra.yaml"), yaml);
            Files.writeString(dir.resolve("logback.xml"), resource("cassandra-logback.xml"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>(prefix);
        if (isRoot() && Files.isExecutable(Path.of("/usr/bin/setpriv"))) {
            // As root, Cassandra's mlockall would pin its whole heap; drop the capability.
            cmd.addAll(List.of("/usr/bin/setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "--"));
        }
        cmd.add(javaBinary());
        cmd.addAll(List.of("-Xms256M", "-Xmx" + heap, "-Xss512k", "-XX:+UseG1GC"));
        String extra = System.getenv("BENCH_CASSANDRA_OPTS"); // e.g. a flight recording while working on a benchmark
        if (extra != null && !extra.isBlank()) {
            cmd.addAll(List.of(extra.trim().split("\\s+")));
        }
        for (String line : resource("cassandra-jvm17.options").split("\n")) {
            String t = line.trim();
            if (!t.isEmpty() && !t.startsWith("#")) {
                cmd.add(t);
            }
        }
        try {
            cmd.add(HostsFile.write(dir.resolve("hosts")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        cmd.add("-Dcassandra.config=" + dir.resolve("cassandra.yaml").toUri());
        cmd.add("-Dcassandra.storagedir=" + dir);
        cmd.add("-Dcassandra.logdir=" + dir.resolve("logs"));
        cmd.add("-Dlogback.configurationFile=" + dir.resolve("logback.xml"));
        cmd.add("-Dcassandra-foreground=yes");
        cmd.add("-Dcassandra.jmx.local.port=" + Ports.free());
        cmd.add("-cp");
        cmd.add(layout.cassandraLib() + "/*");
        cmd.add("org.apache.cassandra.service.CassandraDaemon");
        process.start(cmd, dir);
        try {
            Ports.awaitOpen(prefix, address, nativePort, timeout, process.process(), "Cassandra");
        } catch (IllegalStateException e) {
            String tail = process.logTail(30);
            process.close();
            throw new IllegalStateException(e.getMessage() + "\n--- " + process.log() + " ---\n" + tail, e);
        }
        return this;
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** SIGTERM: what an administrator's stop does. */
    @Override
    public void close() {
        process.close();
    }

    /** SIGKILL: a crash. */
    public void kill() {
        process.kill();
    }

    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static String resource(String name) {
        try (InputStream in = CassandraProcess.class.getResourceAsStream("/stack/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource /stack/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
