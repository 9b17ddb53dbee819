package dev.spamtrap.smtp.tarpit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A manual clock: tasks run only when the test advances time, in due order. */
public final class FakeScheduler implements TarpitScheduler {
    private long now = 1_000_000_000L;
    private long seq;
    private final List<Entry> tasks = new ArrayList<>();

    private final class Entry implements Task {
        final long due;
        final long order = seq++;
        final Runnable action;
        boolean cancelled;

        Entry(long due, Runnable action) {
            this.due = due;
            this.action = action;
        }

        @Override
        public void cancel() {
            cancelled = true;
            tasks.remove(this);
        }
    }

    @Override
    public Task schedule(Runnable action, long delayNanos) {
        Entry e = new Entry(now + delayNanos, action);
        tasks.add(e);
        return e;
    }

    @Override
    public long nanoTime() {
        return now;
    }

    public void advance(Duration d) {
        long target = now + d.toNanos();
        while (true) {
            Entry next = tasks.stream().filter(t -> t.due <= target)
                .min(Comparator.<Entry>comparingLong(t -> t.due).thenComparingLong(t -> t.order)).orElse(null);
            if (next == null) {
                break;
            }
            tasks.remove(next);
            now = Math.max(now, next.due);
            next.action.run();
        }
        now = target;
    }

    public int pending() {
        return tasks.size();
    }
}
