package dev.spamtrap.james.routes;

import dev.spamtrap.core.blocklist.Blocklist;
import dev.spamtrap.core.blocklist.Blocklists;
import dev.spamtrap.core.runtime.Spamtrap;
import org.apache.james.webadmin.Routes;
import org.apache.james.webadmin.utils.JsonTransformer;
import org.eclipse.jetty.http.HttpStatus;
import spark.Service;

import javax.inject.Inject;
import javax.inject.Provider;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The lists this node loads from files or URLs ({@code lists} in spamtrap.properties), as this node holds them. Add to
 * {@code extensions.routes} in {@code webadmin.properties}: {@code dev.spamtrap.james.routes.BlocklistRoutes}.
 * <ul>
 * <li>{@code GET /spamtrap/lists}: {@code [{"name", "source", "action", "message", "refresh", "entries", "ranges",
 * "bytes", "badLines", "problems", "loadedAt", "loadMillis", "lastAttempt", "lastError", "loadFailures"}]}, in the order
 * of {@code lists}; {@code ?address=192.0.2.7}: only the lists that hold that address;</li>
 * <li>{@code GET /spamtrap/lists/:name}: one list (404 if not configured);</li>
 * <li>{@code POST /spamtrap/lists/:name/reload}: load it now on the list thread, even if its source looks unchanged
 * (202; the outcome shows in {@code lastAttempt} / {@code lastError}).</li>
 * </ul>
 */
public class BlocklistRoutes implements Routes {
    public static final String BASE = "/spamtrap/lists";

    private final Provider<Spamtrap> spamtrap;
    private final JsonTransformer json;

    @Inject
    public BlocklistRoutes(Provider<Spamtrap> spamtrap, JsonTransformer json) {
        this.spamtrap = spamtrap;
        this.json = json;
    }

    @Override
    public String getBasePath() {
        return BASE;
    }

    private Blocklists lists() {
        try {
            return spamtrap.get().blocklists();
        } catch (RuntimeException e) {
            throw AdminCalls.unavailable("the spamtrap runtime is not available: " + e.getMessage());
        }
    }

    @Override
    public void define(Service service) {
        service.get(BASE, (req, res) -> {
            java.util.Optional<String> address = AdminCalls.optionalQuery(req, "address");
            List<Blocklist> all = lists().all();
            if (address.isPresent()) {
                byte[] literal = dev.spamtrap.core.net.CidrRange.literal(address.get())
                    .orElseThrow(() -> AdminCalls.badRequest("'" + address.get() + "' is not an IPv4 or IPv6 address"));
                InetAddress a = InetAddress.getByAddress(literal);
                all = all.stream().filter(l -> l.contains(a)).collect(Collectors.toList());
            }
            return all.stream().map(BlocklistRoutes::describe).collect(Collectors.toList());
        }, json);
        service.get(BASE + "/:name", (req, res) -> describe(named(AdminCalls.pathParam(req, ":name"))), json);
        service.post(BASE + "/:name/reload", (req, res) -> {
            Blocklist l = named(AdminCalls.pathParam(req, ":name"));
            if (!lists().reloadSoon(l)) {
                throw AdminCalls.unavailable("the list thread is not running");
            }
            res.status(HttpStatus.ACCEPTED_202);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", l.name());
            m.put("reload", "started");
            return m;
        }, json);
    }

    private Blocklist named(String name) {
        return lists().named(name).orElseThrow(() -> AdminCalls.notFound("no list '" + name + "' is configured on this node"));
    }

    static Map<String, Object> describe(Blocklist l) {
        Blocklist.Loaded loaded = l.loaded();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", l.name());
        m.put("source", l.settings().source().describe());
        m.put("action", l.settings().action().label());
        m.put("message", l.settings().message());
        m.put("refresh", dev.spamtrap.core.config.Durations.human(l.settings().refresh()));
        m.put("entries", loaded.entries());
        m.put("ranges", loaded.ranges().ranges());
        m.put("bytes", loaded.ranges().bytes());
        m.put("badLines", loaded.read().badLines());
        m.put("problems", loaded.read().problems());
        m.put("loadedAt", loaded.at().map(Object::toString).orElse(null));
        m.put("loadMillis", loaded.millis());
        m.put("lastAttempt", l.lastAttempt().map(Object::toString).orElse(null));
        m.put("lastError", l.lastError().orElse(null));
        m.put("loadFailures", l.loadFailures());
        return m;
    }
}
