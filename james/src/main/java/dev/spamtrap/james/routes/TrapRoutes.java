package dev.spamtrap.james.routes;

import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.core.trap.TrapEntry;
import dev.spamtrap.james.tasks.TrapImportTask;
import org.apache.james.task.TaskManager;
import org.apache.james.webadmin.tasks.TaskFromRequest;
import org.apache.james.webadmin.utils.JsonTransformer;
import org.apache.james.webadmin.utils.Responses;
import spark.Request;
import spark.Service;

import javax.inject.Inject;
import javax.inject.Provider;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * {@code /spamtrap/traps}: list (paged), add ({@code PUT /spamtrap/traps/<entry>}), remove, check which
 * entry an address matches, and bulk import as a task ({@code POST /spamtrap/traps?action=import}).
 * Behind WebAdmin's authentication like every route of its own: the check tells the reader what is a trap.
 */
public class TrapRoutes extends SpamtrapRoutes {
    public static final String BASE = "/spamtrap/traps";

    private final TaskManager taskManager;

    @Inject
    public TrapRoutes(Provider<SpamtrapAdmin> admin, TaskManager taskManager, JsonTransformer json) {
        super(BASE, admin, json);
        this.taskManager = taskManager;
    }

    @Override
    public void define(Service service) {
        service.get(BASE, (req, res) -> {
            int offset = AdminCalls.offset(req);
            int limit = AdminCalls.limit(req);
            return Json.page(calls.call(a -> a.listTraps(offset, limit)), Json::trap);
        }, json);
        service.get(BASE + "/check", (req, res) -> check(AdminCalls.requiredQuery(req, "address")), json);
        service.put(BASE + "/:entry", (req, res) -> {
            String entry = AdminCalls.pathParam(req, ":entry");
            String comment = Bodies.comment(req);
            calls.call(a -> a.addTrap(entry, comment));
            return Responses.returnNoContent(res);
        });
        service.delete(BASE + "/:entry", (req, res) -> {
            String entry = AdminCalls.pathParam(req, ":entry");
            if (!calls.call(a -> a.removeTrap(entry))) {
                throw AdminCalls.notFound("no trap entry '" + entry + "' in the shared table");
            }
            return Responses.returnNoContent(res);
        });
        TaskFromRequest importTask = this::importTask;
        service.post(BASE, importTask.asRoute(taskManager), json);
    }

    private Map<String, Object> check(String address) {
        if (!address.contains("@")) {
            throw AdminCalls.badRequest("'address' is not a mail address: '" + address + "'");
        }
        Optional<TrapEntry> match = calls.admin().checkAddress(address);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("address", address);
        m.put("trap", match.isPresent());
        match.ifPresent(t -> {
            m.put("entry", t.text());
            m.put("kind", t.kind().name().toLowerCase(java.util.Locale.ROOT));
        });
        return m;
    }

    private TrapImportTask importTask(Request request) {
        String action = AdminCalls.requiredQuery(request, "action");
        if (!action.equals("import")) {
            throw AdminCalls.badRequest("'action' must be 'import', not '" + action + "'");
        }
        TrapImportFormat.Parsed parsed = TrapImportFormat.parse(request.body());
        if (parsed.entries().isEmpty()) {
            throw AdminCalls.badRequest("the body holds no trap entry (one per line, or spamdb -T 'SPAMTRAP|address' lines)");
        }
        return new TrapImportTask(calls.admin(), parsed.entries(), parsed.skipped(), AdminCalls.optionalQuery(request, "comment").orElse("imported"));
    }
}
