package dev.spamtrap.agent.netns;

import org.junit.jupiter.api.Assumptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces created (and deleted) by a test: never touches the host's own namespace, firewall or
 * interfaces. {@link #assumeUsable()} skips the test, with the reason, where this cannot work.
 */
public final class Netns {
    private Netns() {
    }

    /** Skips (JUnit assumption) unless root, ip and nft are there and a namespace can be made. */
    public static void assumeUsable() {
        String uid = run(List.of("id", "-u")).strip();
        Assumptions.assumeTrue("0".equals(uid), "SKIPPED: needs root to create network namespaces (running as uid " + uid + ")");
        Assumptions.assumeTrue(onPath("ip"), "SKIPPED: 'ip' (iproute2) is not installed");
        Assumptions.assumeTrue(onPath("nft"), "SKIPPED: 'nft' is not installed (apt-get install -y nftables)");
        String probe = name("st-probe");
        try {
            String out = runStatus(List.of("ip", "netns", "add", probe));
            Assumptions.assumeTrue(out == null, "SKIPPED: cannot create a network namespace here: " + out);
            String nft = runStatus(List.of("ip", "netns", "exec", probe, "nft", "list", "ruleset"));
            Assumptions.assumeTrue(nft == null, "SKIPPED: nft does not work inside a network namespace here: " + nft);
        } finally {
            delete(probe);
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        for (String dir : List.of("/usr/sbin", "/sbin")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** A name unlikely to clash with a parallel run. */
    public static String name(String prefix) {
        return prefix + "-" + ProcessHandle.current().pid() + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100, 0xfff));
    }

    public static void create(String ns) {
        check(List.of("ip", "netns", "add", ns));
        check(List.of("ip", "-n", ns, "link", "set", "lo", "up"));
    }

    public static void delete(String ns) {
        runStatus(List.of("ip", "netns", "del", ns));
    }

    /** Runs a command and returns null on success, or what it printed on failure. */
    public static String runStatus(List<String> argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "timed out: " + String.join(" ", argv);
            }
            return p.exitValue() == 0 ? null : String.join(" ", argv) + " -> exit " + p.exitValue() + ": " + out.strip();
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e.toString();
        }
    }

    public static String run(List<String> argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(60, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    public static void check(List<String> argv) {
        String problem = runStatus(argv);
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
    }

    /** A {@link NetProbe} JVM started inside a namespace. */
    /**
     * Creates namespaces {@code srv} and {@code cli} joined by a veth pair (vs0 in {@code srv}, vc0 in {@code cli}), up,
     * with {@code serverAddresses} on vs0 and {@code clientAddresses} on vc0: IPv4 ones as /24, IPv6 ones as /40 (no
     * duplicate address detection).
     */
    public static void linked(String srv, String cli, List<String> serverAddresses, List<String> clientAddresses) {
        create(srv);
        create(cli);
        check(List.of("ip", "-n", srv, "link", "add", "vs0", "type", "veth", "peer", "name", "vc0", "netns", cli));
        addAddresses(srv, "vs0", serverAddresses);
        addAddresses(cli, "vc0", clientAddresses);
        check(List.of("ip", "-n", srv, "link", "set", "vs0", "up"));
        check(List.of("ip", "-n", cli, "link", "set", "vc0", "up"));
    }

    private static void addAddresses(String ns, String dev, List<String> addresses) {
        for (String a : addresses) {
            check(a.contains(":") ? List.of("ip", "-n", ns, "addr", "add", a + "/40", "dev", dev, "nodad")
                : List.of("ip", "-n", ns, "addr", "add", a + "/24", "dev", dev));
        }
    }

    public static final class Probe implements AutoCloseable {
        private final Process process;
        private final BufferedReader out;
        private final OutputStream in;

        public Probe(String ns, String... args) throws IOException {
            List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns, Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classPath(), NetProbe.class.getName()));
            argv.addAll(List.of(args));
            process = new ProcessBuilder(argv).redirectErrorStream(true).start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
            in = process.getOutputStream();
            String ready = out.readLine();
            if (!"READY".equals(ready)) {
                process.destroyForcibly();
                throw new IOException("probe in " + ns + " did not start: " + ready);
            }
        }

        private static String classPath() {
            try {
                return Path.of(NetProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** "OK" when a TCP connection from src to dst:port got the banner, "FAIL ..." otherwise. */
        public String connect(String src, String dst, int port, int timeoutMillis) throws IOException {
            in.write(("connect " + src + " " + dst + " " + port + " " + timeoutMillis + "\n").getBytes(StandardCharsets.US_ASCII));
            in.flush();
            String r = out.readLine();
            return r == null ? "FAIL probe gone" : r;
        }

        /** Opens a connection named {@code name} and keeps it; "OK" once the banner came. */
        public String open(String name, String src, String dst, int port, int timeoutMillis) throws IOException {
            return ask("open " + name + " " + src + " " + dst + " " + port + " " + timeoutMillis);
        }

        /** One line echoed over the kept connection {@code name}: "OK" or "FAIL ...". */
        public String talk(String name) throws IOException {
            return ask("talk " + name);
        }

        private String ask(String line) throws IOException {
            in.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            in.flush();
            String r = out.readLine();
            return r == null ? "FAIL probe gone" : r;
        }

        @Override
        public void close() {
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
