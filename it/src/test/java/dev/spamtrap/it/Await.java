package dev.spamtrap.it;

import java.time.Duration;
import java.util.function.Supplier;

/** Polls until a condition holds (tests wait for asynchronous effects, never for fixed times alone). */
public final class Await {
    private Await() {
    }

    public static <T> T until(Duration timeout, String what, Supplier<T> value, java.util.function.Predicate<T> ok) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        while (System.nanoTime() < deadline) {
            last = value.get();
            if (ok.test(last)) {
                return last;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("Timed out after " + timeout + " waiting for " + what + "; last value: " + last);
    }
}
