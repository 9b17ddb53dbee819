package dev.spamtrap.james.routes;

import dev.spamtrap.core.admin.SpamtrapAdmin;
import org.apache.james.webadmin.Routes;
import org.apache.james.webadmin.utils.JsonTransformer;

import javax.inject.Provider;

/**
 * What every spamtrap route class shares: its base path, the admin calls (which map our errors to WebAdmin's
 * answers) and James's JSON transformer. Each subclass defines its own routes.
 */
abstract class SpamtrapRoutes implements Routes {
    private final String basePath;
    protected final AdminCalls calls;
    protected final JsonTransformer json;

    SpamtrapRoutes(String basePath, Provider<SpamtrapAdmin> admin, JsonTransformer json) {
        this.basePath = basePath;
        this.calls = new AdminCalls(admin);
        this.json = json;
    }

    @Override
    public String getBasePath() {
        return basePath;
    }
}
