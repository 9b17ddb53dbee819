package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.backend.Op;
import dev.spamtrap.agent.net.Prefix;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** One live command on its way through the applier: what was asked, the ops planned for it, and its outcome. */
final class Change {
    final Applier.Action action;
    final Prefix prefix;
    final long ttlSeconds;
    final String origin;
    final CompletableFuture<Outcome> result = new CompletableFuture<>();
    final List<Op> ops = new ArrayList<>();
    Outcome outcome;
    /** The view's entry for {@link #prefix} before this change was planned (null: none), put back if its ops fail. */
    BlockTable.Entry before;
    boolean planned;

    Change(Applier.Action action, Prefix prefix, long ttlSeconds, String origin) {
        this.action = action;
        this.prefix = prefix;
        this.ttlSeconds = ttlSeconds;
        this.origin = origin;
    }
}
