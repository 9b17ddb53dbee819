package dev.spamtrap.james.routes;

import dev.spamtrap.core.admin.CursorPage;
import dev.spamtrap.core.admin.OffenderFilter;
import dev.spamtrap.core.admin.OffenderSummary;
import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.core.export.PlainList;
import dev.spamtrap.core.export.RbldnsdZone;
import dev.spamtrap.core.runtime.Spamtrap;
import org.apache.james.webadmin.Routes;
import spark.Service;

import javax.inject.Inject;
import javax.inject.Provider;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * {@code GET /spamtrap/export/rbldnsd} (an rbldnsd {@code combined} data file, see {@link RbldnsdZone};
 * optional {@code message} with {@code $} for the client address) and {@code GET /spamtrap/export/plain}
 * (one address or prefix per line): the whole active offender list of class {@code trap}, for DNSBL consumers
 * ({@code ?protocol=true} adds the protocol class; observed listings are never exported). {@code bin/spamtrap-export}
 * fetches them from cron.
 */
public class ExportRoutes implements Routes {
    public static final String BASE = "/spamtrap/export";
    private static final int PAGE = 1000;

    private final AdminCalls calls;
    private final Clock clock;
    private final Predicate<String> spared;

    /** {@code spamtrap} says which keys are never exported (a range around an allowlisted address or a trusted relay). */
    @Inject
    public ExportRoutes(Provider<SpamtrapAdmin> admin, Spamtrap spamtrap) {
        this(admin, Clock.systemUTC(), spamtrap::isSpared);
    }

    ExportRoutes(Provider<SpamtrapAdmin> admin) {
        this(admin, Clock.systemUTC(), key -> false);
    }

    ExportRoutes(Provider<SpamtrapAdmin> admin, Clock clock, Predicate<String> spared) {
        this.calls = new AdminCalls(admin);
        this.clock = clock;
        this.spared = spared;
    }

    @Override
    public String getBasePath() {
        return BASE;
    }

    @Override
    public void define(Service service) {
        service.get(BASE + "/rbldnsd", (req, res) -> {
            String message = AdminCalls.optionalQuery(req, "message").orElse(RbldnsdZone.DEFAULT_MESSAGE);
            List<OffenderSummary> all = all(withProtocol(req));
            res.type("text/plain; charset=utf-8");
            return RbldnsdZone.render(all, clock.instant(), message);
        });
        service.get(BASE + "/plain", (req, res) -> {
            List<OffenderSummary> all = all(withProtocol(req));
            res.type("text/plain; charset=utf-8");
            return PlainList.render(all);
        });
    }

    /** {@code ?protocol=true} also exports the protocol class (its listings answer 127.0.0.6); observed listings never. */
    private static boolean withProtocol(spark.Request req) {
        return AdminCalls.optionalQuery(req, "protocol").map(Boolean::parseBoolean).orElse(false);
    }

    private List<OffenderSummary> all(boolean withProtocol) {
        // one pass over the table, page by page (offset paging would re-read the table for every page)
        List<OffenderSummary> all = new ArrayList<>();
        String cursor = null;
        do {
            String from = cursor;
            CursorPage<OffenderSummary> page = calls.call(a -> a.offenders(OffenderFilter.NONE, from, PAGE));
            page.items().stream()
                .filter(o -> !o.cause().isObserved() && (withProtocol || !o.cause().isProtocol()))
                .filter(o -> !spared.test(o.key())).forEach(all::add);
            cursor = page.next().orElse(null);
        } while (cursor != null);
        all.sort(java.util.Comparator.comparing(OffenderSummary::key)); // a stable zone file from run to run
        return all;
    }
}
