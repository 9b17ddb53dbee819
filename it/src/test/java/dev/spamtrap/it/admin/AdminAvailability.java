package dev.spamtrap.it.admin;

import dev.spamtrap.it.stack.WebAdmin;

import java.net.http.HttpResponse;

/**
 * Whether the James under test has the store's SpamtrapAdmin implementation (issue 9). Until it is in the
 * build, the routes answer 503 naming what is missing, and the parts of these tests that need the store side
 * skip with that reason (they are not passes).
 */
final class AdminAvailability {
    private AdminAvailability() {
    }

    /** Null when available, else why not. */
    static String whyNot(WebAdmin web) {
        HttpResponse<String> r = web.request("GET", "/spamtrap/status", null);
        if (r.statusCode() == 503 && r.body().contains("no SpamtrapAdmin implementation")) {
            return "the store's SpamtrapAdmin implementation is not in this build: " + r.body();
        }
        return null;
    }
}
