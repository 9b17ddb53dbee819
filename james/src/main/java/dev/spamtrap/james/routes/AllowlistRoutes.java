package dev.spamtrap.james.routes;

import dev.spamtrap.core.admin.SpamtrapAdmin;
import org.apache.james.webadmin.utils.JsonTransformer;
import org.apache.james.webadmin.utils.Responses;
import spark.Service;

import javax.inject.Inject;
import javax.inject.Provider;

/**
 * {@code /spamtrap/allowlist}: list, add ({@code PUT /spamtrap/allowlist/192.0.2.0%2F24}), remove.
 * Adding a range also forgives every listed offender inside it; the count is in the
 * {@code X-Spamtrap-Forgiven} response header (the body of a 204 is empty).
 */
public class AllowlistRoutes extends SpamtrapRoutes {
    public static final String BASE = "/spamtrap/allowlist";

    @Inject
    public AllowlistRoutes(Provider<SpamtrapAdmin> admin, JsonTransformer json) {
        super(BASE, admin, json);
    }

    @Override
    public void define(Service service) {
        service.get(BASE, (req, res) -> {
            int offset = AdminCalls.offset(req);
            int limit = AdminCalls.limit(req);
            return Json.page(calls.call(a -> a.listAllowlist(offset, limit)), Json::allowlist);
        }, json);
        service.put(BASE + "/:cidr", (req, res) -> {
            String cidr = AdminCalls.pathParam(req, ":cidr");
            String comment = Bodies.comment(req);
            int forgiven = calls.call(a -> a.addAllowlist(cidr, comment));
            res.header("X-Spamtrap-Forgiven", Integer.toString(forgiven));
            return Responses.returnNoContent(res);
        });
        service.delete(BASE + "/:cidr", (req, res) -> {
            String cidr = AdminCalls.pathParam(req, ":cidr");
            if (!calls.call(a -> a.removeAllowlist(cidr))) {
                throw AdminCalls.notFound("no allowlist range '" + cidr + "' in the shared table");
            }
            return Responses.returnNoContent(res);
        });
    }
}
