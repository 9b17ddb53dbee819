package dev.spamtrap.it.admin;

import dev.spamtrap.it.stack.Ports;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real rbldnsd (Debian package) serving one zone file as {@code bl.spamtrap.test}, queried with a real
 * {@code dig}. Started in the foreground so this object owns the process; stopped by {@link #close()}.
 */
final class Rbldnsd implements AutoCloseable {
    static final String ZONE = "bl.spamtrap.test";
    private final Process process;
    private final int port;
    private final Path log;

    private Rbldnsd(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Why this machine cannot run the test, or null. */
    static String whyNot() {
        for (String tool : List.of("/usr/sbin/rbldnsd", "/usr/bin/dig")) {
            if (!Files.isExecutable(Path.of(tool))) {
                return tool + " not installed (Debian packages rbldnsd, dnsutils)";
            }
        }
        return null;
    }

    static Rbldnsd serve(Path dir, String zoneText) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("spamtrap.zone"), zoneText);
        int port = Ports.free();
        Path log = dir.resolve("rbldnsd.log");
        Process p = new ProcessBuilder("/usr/sbin/rbldnsd", "-n", "-b", "127.0.0.1/" + port, "-w", dir.toString(), "-t", "60",
            ZONE + ":combined:spamtrap.zone")
            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Rbldnsd r = new Rbldnsd(p, port, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.readString(log).contains("started")) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                r.close();
                throw new IllegalStateException("rbldnsd did not start: " + Files.readString(log));
            }
            Thread.sleep(100);
        }
        return r;
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    /** {@code dig +short} for the DNSBL name of an address (reversed nibbles or octets under the zone). */
    String dig(String address, String type) throws Exception {
        return run("/usr/bin/dig", "+short", "+time=5", "+tries=2", "-p", Integer.toString(port), "@127.0.0.1", queryName(address), type);
    }

    /** The status word of the full answer (NOERROR, NXDOMAIN). */
    String status(String address) throws Exception {
        String out = run("/usr/bin/dig", "+time=5", "+tries=2", "-p", Integer.toString(port), "@127.0.0.1", queryName(address), "A");
        int i = out.indexOf("status: ");
        return i < 0 ? out : out.substring(i + 8, out.indexOf(',', i));
    }

    static String queryName(String address) throws Exception {
        byte[] b = InetAddress.getByName(address).getAddress();
        StringBuilder sb = new StringBuilder();
        if (b.length == 4) {
            for (int i = 3; i >= 0; i--) {
                sb.append(b[i] & 0xff).append('.');
            }
        } else {
            for (int i = 15; i >= 0; i--) {
                sb.append(Integer.toHexString(b[i] & 0xf)).append('.').append(Integer.toHexString((b[i] >> 4) & 0xf)).append('.');
            }
        }
        return sb + ZONE;
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return out.trim();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
