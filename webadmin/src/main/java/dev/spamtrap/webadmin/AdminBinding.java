package dev.spamtrap.webadmin;

import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.core.runtime.Spamtrap;

/**
 * Where the admin facade comes from: the store side implements {@link SpamtrapAdmin} on top of the
 * node's runtime. Kept in one place so the routes, metrics and commands never construct it themselves.
 */
final class AdminBinding {
    private AdminBinding() {
    }

    static SpamtrapAdmin of(Spamtrap spamtrap) {
        // The Cassandra-backed implementation belongs to the store (issue 9); until it is in this build the
        // routes answer 503 naming what is missing, and James itself runs normally.
        throw new IllegalStateException("no SpamtrapAdmin implementation in this build");
    }
}
