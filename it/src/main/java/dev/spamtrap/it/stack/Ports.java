package dev.spamtrap.it.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

/** Small socket helpers for starting servers on loopback. */
public final class Ports {
    /** Ports handed out in this JVM: the kernel may offer a just-closed port again, and two servers would then share one. */
    private static final java.util.Set<Integer> GIVEN = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private Ports() {
    }

    /** A loopback port free now and never handed out before by this JVM. */
    public static int free() {
        while (true) {
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                s.setReuseAddress(true);
                port = s.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (GIVEN.add(port)) {
                return port;
            }
        }
    }

    public static boolean isOpen(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public static void awaitOpen(String host, int port, Duration timeout, Process owner, String what) {
        awaitOpen(java.util.List.of(), host, port, timeout, owner, what);
    }

    /**
     * Waits until {@code host:port} accepts connections, probing from inside whatever {@code prefix} runs
     * commands in (e.g. {@code ip netns exec NS}); an empty prefix probes from here.
     */
    public static void awaitOpen(java.util.List<String> prefix, String host, int port, Duration timeout, Process owner, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (owner != null && !owner.isAlive()) {
                throw new IllegalStateException(what + " exited with code " + owner.exitValue() + " before opening port " + port);
            }
            if (prefix.isEmpty() ? isOpen(host, port) : isOpen(prefix, host, port)) {
                return;
            }
            sleep(prefix.isEmpty() ? 100 : 300);
        }
        throw new IllegalStateException(what + " did not open " + host + ":" + port + " within " + timeout);
    }

    public static boolean isOpen(java.util.List<String> prefix, String host, int port) {
        java.util.List<String> cmd = new java.util.ArrayList<>(prefix);
        cmd.addAll(java.util.List.of("bash", "-c", "exec 3<>/dev/tcp/" + host + "/" + port));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
