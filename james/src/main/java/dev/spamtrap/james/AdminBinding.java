package dev.spamtrap.james;

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
        SpamtrapAdmin admin = spamtrap.admin();
        if (admin == null) {
            throw new IllegalStateException("no SpamtrapAdmin implementation in this build: the runtime was started without a store");
        }
        return admin;
    }
}
