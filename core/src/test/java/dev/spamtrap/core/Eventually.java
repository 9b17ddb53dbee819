package dev.spamtrap.core;

import java.util.function.BooleanSupplier;

/** Waits for a condition the code under test reaches on its own threads. */
public final class Eventually {
    private Eventually() {
    }

    /** Polls {@code condition} until it holds; fails after 10 s. */
    public static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 10 s");
            }
            Thread.sleep(10);
        }
    }
}
