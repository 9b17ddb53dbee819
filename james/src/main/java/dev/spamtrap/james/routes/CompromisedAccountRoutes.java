package dev.spamtrap.james.routes;

import dev.spamtrap.core.trap.CompromisedAccounts;
import org.apache.james.webadmin.Routes;
import org.apache.james.webadmin.utils.JsonTransformer;
import org.apache.james.webadmin.utils.Responses;
import spark.Service;

import javax.inject.Inject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Authenticated users who sent to a trap: probable compromised accounts. In memory on the node answering (see
 * {@link CompromisedAccounts}): ask each node, or follow the {@code spamtrap exempt-hit ... exempt="authenticated"}
 * event lines. Add to {@code extensions.routes} in {@code webadmin.properties}:
 * {@code dev.spamtrap.james.routes.CompromisedAccountRoutes}.
 * <ul>
 * <li>{@code GET /spamtrap/compromised-accounts}: {@code [{"account", "hits", "firstHit", "lastHit", "lastClient", "lastTrap"}]},
 * most recent first;</li>
 * <li>{@code DELETE /spamtrap/compromised-accounts/:account}: forget one (204; 404 if not listed).</li>
 * </ul>
 */
public class CompromisedAccountRoutes implements Routes {
    public static final String BASE = "/spamtrap/compromised-accounts";

    private final CompromisedAccounts accounts;
    private final JsonTransformer json;

    @Inject
    public CompromisedAccountRoutes(CompromisedAccounts accounts, JsonTransformer json) {
        this.accounts = accounts;
        this.json = json;
    }

    @Override
    public String getBasePath() {
        return BASE;
    }

    @Override
    public void define(Service service) {
        service.get(BASE, (req, res) -> list(), json);
        service.delete(BASE + "/:account", (req, res) -> {
            String account = AdminCalls.pathParam(req, ":account");
            if (!accounts.forget(account)) {
                throw AdminCalls.notFound("'" + account + "' has no trap hit on this node");
            }
            return Responses.returnNoContent(res);
        });
    }

    List<Map<String, Object>> list() {
        return accounts.list().stream().map(a -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("account", a.account());
            m.put("hits", a.hits());
            m.put("firstHit", a.firstHit().toString());
            m.put("lastHit", a.lastHit().toString());
            m.put("lastClient", a.lastClient());
            m.put("lastTrap", a.lastTrap());
            return m;
        }).collect(Collectors.toList());
    }
}
