package dev.spamtrap.agent;

import dev.spamtrap.agent.backend.CommandRunner;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/** Records every command instead of running it; can be told to fail some. */
public final class FakeRunner implements CommandRunner {
    public static final class Call {
        public final List<String> argv;
        public final String stdin;

        Call(List<String> argv, String stdin) {
            this.argv = argv;
            this.stdin = stdin;
        }

        @Override
        public String toString() {
            return String.join(" ", argv) + (stdin == null ? "" : " <<\n" + stdin);
        }
    }

    public final List<Call> calls = new CopyOnWriteArrayList<>();
    /** Presence probes (nft create table ...): answered "the table exists" and kept apart from the changes. */
    public final List<Call> queries = new CopyOnWriteArrayList<>();
    private volatile Predicate<Call> failWhen = c -> false;
    private volatile long delayMillis;

    public FakeRunner failWhen(Predicate<Call> p) {
        this.failWhen = p;
        return this;
    }

    /** Makes every change take this long, like nft on a busy machine. */
    public FakeRunner slowBy(long millis) {
        this.delayMillis = millis;
        return this;
    }

    @Override
    public Result run(List<String> argv, byte[] stdin, Duration timeout) {
        Call c = new Call(List.copyOf(argv), stdin == null ? null : new String(stdin, StandardCharsets.UTF_8));
        if (argv.contains("list") && argv.contains("-j")) {
            queries.add(c); // the read-back of the sets at start: empty
            return failWhen.test(c) ? new Result(1, "Error: simulated failure") : new Result(0, "{\"nftables\": []}");
        }
        if (argv.contains("create") && stdin == null) {
            queries.add(c);
            return failWhen.test(c) ? new Result(0, "") : new Result(1, "Error: Could not process rule: File exists");
        }
        calls.add(c);
        if (delayMillis > 0 && stdin != null) {
            try {
                Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return failWhen.test(c) ? new Result(1, "Error: simulated failure") : new Result(0, "");
    }

    /** Everything fed on standard input so far, joined. */
    public String allInput() {
        StringBuilder b = new StringBuilder();
        for (Call c : calls) {
            if (c.stdin != null) {
                b.append(c.stdin);
            }
        }
        return b.toString();
    }

    public List<Call> snapshot() {
        return new ArrayList<>(calls);
    }
}
