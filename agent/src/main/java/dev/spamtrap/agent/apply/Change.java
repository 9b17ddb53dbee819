package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.backend.Op;
import dev.spamtrap.agent.net.Prefix;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** One live command on its way through the applier: what was asked, the ops planned for it, and its outcome. */
final class Change {
    final Applier.Action action;
    final Prefix prefix;
    final long ttlSeconds;
    final String origin;
    /** Where the outcome goes: this change's own future, or its slot in a group of commands that arrived together. */
    private final CompletableFuture<Outcome> result;
    private final Group group;
    private final int index;
    final List<Op> ops = new ArrayList<>(1);
    Outcome outcome;
    /** The view's entry for {@link #prefix} before this change was planned (null: none), put back if its ops fail. */
    BlockTable.Entry before;
    boolean planned;

    /** A command submitted alone. */
    Change(Applier.Action action, Prefix prefix, long ttlSeconds, String origin) {
        this(action, prefix, ttlSeconds, origin, new CompletableFuture<>(), null, 0);
    }

    private Change(Applier.Action action, Prefix prefix, long ttlSeconds, String origin, CompletableFuture<Outcome> result, Group group, int index) {
        this.action = action;
        this.prefix = prefix;
        this.ttlSeconds = ttlSeconds;
        this.origin = origin;
        this.result = result;
        this.group = group;
        this.index = index;
    }

    CompletableFuture<Outcome> result() {
        return result;
    }

    void complete(Outcome o) {
        if (group != null) {
            group.done(index, o);
        } else {
            result.complete(o);
        }
    }

    /**
     * Commands that arrived together (one signed message): queued as one item, and answered together once each has
     * its outcome. Only the applier thread completes its changes.
     */
    static final class Group {
        final Change[] changes;
        private final Outcome[] outcomes;
        private int left;
        final CompletableFuture<List<Outcome>> result = new CompletableFuture<>();

        Group(List<Applier.Request> requests, String origin) {
            changes = new Change[requests.size()];
            outcomes = new Outcome[requests.size()];
            left = requests.size();
            for (int i = 0; i < changes.length; i++) {
                Applier.Request r = requests.get(i);
                changes[i] = new Change(r.action(), r.prefix(), r.ttlSeconds(), origin, null, this, i);
            }
            if (left == 0) {
                result.complete(List.of());
            }
        }

        private void done(int i, Outcome o) {
            if (outcomes[i] == null) {
                outcomes[i] = o;
                if (--left == 0) {
                    result.complete(Arrays.asList(outcomes));
                }
            }
        }

        void refuseAll(String reason) {
            for (Change c : changes) {
                c.complete(Outcome.refused(reason));
            }
        }
    }
}
