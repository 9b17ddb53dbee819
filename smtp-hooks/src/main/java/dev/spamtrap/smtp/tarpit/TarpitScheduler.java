package dev.spamtrap.smtp.tarpit;

import io.netty.util.concurrent.EventExecutor;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Where the tarpit's timers run. In James it is the connection's own Netty event loop: a delayed reply is a
 * scheduled task on that loop, not a thread, and the gate's state never leaves the loop. Tests use a fake.
 */
public interface TarpitScheduler {
    interface Task {
        void cancel();
    }

    Task schedule(Runnable action, long delayNanos);

    long nanoTime();

    static TarpitScheduler on(EventExecutor executor) {
        return new TarpitScheduler() {
            @Override
            public Task schedule(Runnable action, long delayNanos) {
                ScheduledFuture<?> f = executor.schedule(action, delayNanos, TimeUnit.NANOSECONDS);
                return () -> f.cancel(false);
            }

            @Override
            public long nanoTime() {
                return System.nanoTime();
            }
        };
    }
}
