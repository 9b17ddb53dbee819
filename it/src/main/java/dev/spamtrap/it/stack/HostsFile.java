package dev.spamtrap.it.stack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The hosts file a forked JVM resolves names with ({@code -Djdk.net.hosts.file}): localhost and the machine's own
 * name, both on loopback. James and Cassandra ask for the local host's address at start; resolving the machine's name
 * through the system would stall on a slow resolver, fail inside a network namespace, and fail on a machine whose
 * /etc/hosts does not name itself (a fresh Debian root).
 */
public final class HostsFile {
    private HostsFile() {
    }

    /** Writes the file and returns the JVM option that uses it. */
    public static String write(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "127.0.0.1 localhost " + machineName() + "\n::1 localhost\n");
        return "-Djdk.net.hosts.file=" + file;
    }

    /** The machine's name as the kernel has it (what InetAddress.getLocalHost() looks up), read without resolving it. */
    static String machineName() {
        try {
            String name = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            if (!name.isEmpty()) {
                return name;
            }
        } catch (IOException e) {
            // not Linux: fall through
        }
        String env = System.getenv("HOSTNAME");
        return env == null || env.isBlank() ? "localhost" : env;
    }
}
