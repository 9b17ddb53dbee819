package dev.spamtrap.agent.backend;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Runs commands with {@link ProcessBuilder}: an argument vector, no shell, output captured, a hard timeout. */
public final class ProcessCommandRunner implements CommandRunner {
    private static final int MAX_OUTPUT = 64 * 1024;
    /**
     * Output readers on threads of their own: the common fork-join pool has one thread on a two-core machine, and
     * two commands running at once (the kernel read-back beside a batch) must not wait on each other's reader.
     */
    private static final java.util.concurrent.ExecutorService READERS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "agent-command-output");
        t.setDaemon(true);
        return t;
    });

    @Override
    public Result run(List<String> argv, byte[] stdin, Duration timeout) throws IOException {
        return run(argv, stdin, timeout, MAX_OUTPUT);
    }

    @Override
    public Result run(List<String> argv, byte[] stdin, Duration timeout, int maxOutputBytes) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        Process p = pb.start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> drain(p.getInputStream(), maxOutputBytes), READERS);
        try {
            if (stdin != null) {
                try (OutputStream in = p.getOutputStream()) {
                    in.write(stdin);
                } catch (IOException e) {
                    // the command exited early (e.g. on a syntax error); its output says why
                }
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", argv) + " did not finish within " + timeout.toMillis() + " ms");
            }
            return new Result(p.exitValue(), output.get(30, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + argv.get(0), e);
        } catch (ExecutionException | TimeoutException e) {
            return new Result(p.exitValue(), "(output unavailable: " + e + ")");
        }
    }

    private static String drain(InputStream in, int max) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (out.size() < max) {
                    out.write(buf, 0, Math.min(n, max - out.size()));
                }
            }
        } catch (IOException ignored) {
            // process gone
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
