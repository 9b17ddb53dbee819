package dev.spamtrap.james.routes;

import dev.spamtrap.core.admin.OffenderFilter;
import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.core.config.ConfigException;
import dev.spamtrap.core.config.Durations;
import org.apache.james.webadmin.utils.JsonTransformer;
import org.apache.james.webadmin.utils.Responses;
import spark.Request;
import spark.Service;

import javax.inject.Inject;
import javax.inject.Provider;
import java.time.Duration;

/**
 * {@code /spamtrap/offenders}: list (filters {@code prefix}, {@code trap}, {@code node}; {@code limit} per page, in
 * the store's order, continued with {@code ?cursor=} the {@code next} of the previous page), one
 * offender with its evidence, list one by hand ({@code PUT ...?lifetime=24h}), and forgive ({@code DELETE}):
 * gone from Cassandra, from every node's view and, through the agent's UNBLOCK, from the firewall.
 * A key holding a '/' (a prefix such as {@code 2001:db8:1:2::/64}) is written {@code %2F} in the path.
 */
public class OffenderRoutes extends SpamtrapRoutes {
    public static final String BASE = "/spamtrap/offenders";

    @Inject
    public OffenderRoutes(Provider<SpamtrapAdmin> admin, JsonTransformer json) {
        super(BASE, admin, json);
    }

    @Override
    public void define(Service service) {
        service.get(BASE, (req, res) -> {
            OffenderFilter filter;
            try {
                filter = new OffenderFilter(AdminCalls.optionalQuery(req, "prefix").orElse(null),
                    AdminCalls.optionalQuery(req, "trap").orElse(null), AdminCalls.optionalQuery(req, "node").orElse(null),
                    AdminCalls.optionalQuery(req, "class").orElse(null), AdminCalls.optionalQuery(req, "sensor").orElse(null),
                    AdminCalls.optionalQuery(req, "observed").map(Boolean::parseBoolean).orElse(null));
            } catch (IllegalArgumentException e) {
                throw AdminCalls.badRequest(e.getMessage());
            }
            int limit = AdminCalls.limit(req);
            if (AdminCalls.optionalQuery(req, "offset").isPresent()) {
                throw AdminCalls.badRequest("'offset' is not a parameter of " + BASE + ": page with ?cursor= set to the 'next' of the previous page");
            }
            String cursor = AdminCalls.optionalQuery(req, "cursor").orElse(null);
            return Json.cursorPage(calls.call(a -> a.offenders(filter, cursor, limit)), Json::offender);
        }, json);
        service.get(BASE + "/:key", (req, res) -> {
            String key = AdminCalls.pathParam(req, ":key");
            return calls.call(a -> a.offender(key)).map(Json::evidence)
                .orElseThrow(() -> AdminCalls.notFound("'" + key + "' is not a listed offender"));
        }, json);
        service.put(BASE + "/:key", (req, res) -> {
            String key = AdminCalls.pathParam(req, ":key");
            Duration lifetime = lifetime(req);
            String reason = AdminCalls.optionalQuery(req, "reason").or(() -> Bodies.field(req, "reason")).orElse("manual");
            calls.call(a -> a.listByHand(key, lifetime, reason));
            return Responses.returnNoContent(res);
        });
        service.delete(BASE + "/:key", (req, res) -> {
            String key = AdminCalls.pathParam(req, ":key");
            if (!calls.call(a -> a.forgive(key))) {
                throw AdminCalls.notFound("'" + key + "' is not a listed offender");
            }
            return Responses.returnNoContent(res);
        });
    }

    private static Duration lifetime(Request req) {
        String raw = AdminCalls.optionalQuery(req, "lifetime").or(() -> Bodies.field(req, "lifetime"))
            .orElseThrow(() -> AdminCalls.badRequest("'lifetime' is required, e.g. ?lifetime=24h"));
        try {
            Duration d = Durations.parse(raw);
            if (d.isZero() || d.isNegative()) {
                throw AdminCalls.badRequest("'lifetime' must be positive: '" + raw + "'");
            }
            return d;
        } catch (ConfigException | IllegalArgumentException e) {
            throw AdminCalls.badRequest("'lifetime': '" + raw + "' is not a duration (use e.g. 30m, 24h, 7d)");
        }
    }
}
