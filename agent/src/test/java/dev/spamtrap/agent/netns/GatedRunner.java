package dev.spamtrap.agent.netns;

import dev.spamtrap.agent.backend.CommandRunner;
import dev.spamtrap.agent.backend.ProcessCommandRunner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;

/**
 * Runs the real commands, but holds those a test picks until it opens the gate: to keep the agent in a state
 * (its sets not yet read back, a batch under way) for as long as the test needs.
 */
final class GatedRunner implements CommandRunner {
    private final ProcessCommandRunner real = new ProcessCommandRunner();
    private final BiPredicate<List<String>, String> held;
    private final CountDownLatch gate = new CountDownLatch(1);
    final CountDownLatch reached = new CountDownLatch(1);

    /** Holds every command for which {@code held(argv, stdin)} is true until {@link #open()}. */
    GatedRunner(BiPredicate<List<String>, String> held) {
        this.held = held;
    }

    void open() {
        gate.countDown();
    }

    private void maybeWait(List<String> argv, byte[] stdin) throws IOException {
        if (gate.getCount() > 0 && held.test(argv, stdin == null ? "" : new String(stdin, StandardCharsets.US_ASCII))) {
            reached.countDown();
            try {
                if (!gate.await(120, TimeUnit.SECONDS)) {
                    throw new IOException("gate never opened");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted at the gate", e);
            }
        }
    }

    @Override
    public Result run(List<String> argv, byte[] stdin, Duration timeout) throws IOException {
        maybeWait(argv, stdin);
        return real.run(argv, stdin, timeout);
    }

    @Override
    public Result run(List<String> argv, byte[] stdin, Duration timeout, int maxOutputBytes) throws IOException {
        maybeWait(argv, stdin);
        return real.run(argv, stdin, timeout, maxOutputBytes);
    }
}
