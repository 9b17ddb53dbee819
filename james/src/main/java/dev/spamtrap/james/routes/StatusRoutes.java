package dev.spamtrap.james.routes;

import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.core.admin.SpamtrapStatus;
import org.apache.james.webadmin.utils.JsonTransformer;
import org.eclipse.jetty.http.HttpStatus;
import spark.Service;

import javax.inject.Inject;
import javax.inject.Provider;

/**
 * {@code GET /spamtrap/status}: this node's health (store reachable, spool depth, view size, last sync
 * age, agent reachable, breaker state). 200 when healthy, 503 otherwise, with the same JSON body, so a
 * load balancer or monitoring check can use it directly.
 */
public class StatusRoutes extends SpamtrapRoutes {
    public static final String BASE = "/spamtrap/status";

    @Inject
    public StatusRoutes(Provider<SpamtrapAdmin> admin, JsonTransformer json) {
        super(BASE, admin, json);
    }

    @Override
    public void define(Service service) {
        service.get(BASE, (req, res) -> {
            SpamtrapStatus status = calls.admin().status();
            res.status(status.healthy() ? HttpStatus.OK_200 : HttpStatus.SERVICE_UNAVAILABLE_503);
            return Json.status(status);
        }, json);
    }
}
