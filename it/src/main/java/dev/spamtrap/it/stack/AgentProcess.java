package dev.spamtrap.it.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The firewall agent in its own JVM ({@code java -jar agent/target/spamtrap-agent.jar <config>}), configured
 * from the sample {@code conf/agent.properties} with the given overrides, and a freshly generated shared key.
 */
public final class AgentProcess implements AutoCloseable {
    private final Path dir;
    private final ManagedProcess process;
    private final List<String> commandPrefix = new ArrayList<>();

    public AgentProcess(Path dir) {
        this.dir = dir.toAbsolutePath();
        this.process = new ManagedProcess("agent", this.dir.resolve("agent.pid"), this.dir.resolve("agent.log"));
    }

    /** Runs the agent under a prefix, e.g. {@code ip netns exec NS}. */
    public AgentProcess prefix(List<String> prefix) {
        commandPrefix.clear();
        commandPrefix.addAll(prefix);
        return this;
    }

    public Path keyFile() {
        return dir.resolve("agent.key");
    }

    /** Creates the 32-byte key James and the agent share (kept when it exists). */
    public AgentProcess ensureKey() {
        try {
            Files.createDirectories(dir);
            if (!Files.exists(keyFile())) {
                byte[] key = new byte[32];
                new SecureRandom().nextBytes(key);
                Files.writeString(keyFile(), Base64.getEncoder().encodeToString(key) + "\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Writes agent.properties from the sample with {@code overrides} applied. */
    public AgentProcess configure(Map<String, String> overrides) {
        ensureKey();
        try {
            String text = Files.readString(ProjectLayout.locate().conf().resolve("agent.properties"));
            for (Map.Entry<String, String> e : overrides.entrySet()) {
                text = PropertiesText.set(text, e.getKey(), e.getValue());
            }
            text = PropertiesText.set(text, "key.file", keyFile().toString());
            Files.writeString(dir.resolve("agent.properties"), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    public AgentProcess start(String host, int port, Duration timeout) {
        List<String> cmd = new ArrayList<>(commandPrefix);
        cmd.addAll(List.of(CassandraProcess.javaBinary(), "-Xmx256m", "-jar", ProjectLayout.locate().agentJar().toString(),
            dir.resolve("agent.properties").toString()));
        process.start(cmd, dir);
        try {
            if (host != null) {
                Ports.awaitOpen(commandPrefix, host, port, timeout, process.process(), "firewall agent");
            }
        } catch (IllegalStateException e) {
            String tail = process.logTail(40);
            process.close();
            throw new IllegalStateException(e.getMessage() + "\n--- " + process.log() + " ---\n" + tail, e);
        }
        return this;
    }

    public String log() {
        return process.logText();
    }

    public Path logFile() {
        return process.log();
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.close();
    }
}
