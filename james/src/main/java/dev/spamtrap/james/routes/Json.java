package dev.spamtrap.james.routes;

import dev.spamtrap.core.admin.CursorPage;
import dev.spamtrap.core.admin.AllowlistRecord;
import dev.spamtrap.core.admin.OffenderEvidence;
import dev.spamtrap.core.admin.OffenderSummary;
import dev.spamtrap.core.admin.Page;
import dev.spamtrap.core.admin.SpamtrapStatus;
import dev.spamtrap.core.admin.TrapRecord;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The JSON shapes of the spamtrap routes, as ordered maps that James's JsonTransformer renders. */
final class Json {
    private Json() {
    }

    static <T> Map<String, Object> page(Page<T> page, Function<T, Map<String, Object>> item) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("offset", page.offset());
        m.put("hasMore", page.hasMore());
        m.put("items", page.items().stream().map(item).collect(Collectors.toList()));
        return m;
    }

    static <T> Map<String, Object> cursorPage(CursorPage<T> page, Function<T, Map<String, Object>> item) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hasMore", page.next().isPresent());
        page.next().ifPresent(n -> m.put("next", n));
        m.put("items", page.items().stream().map(item).collect(Collectors.toList()));
        return m;
    }

    static Map<String, Object> trap(TrapRecord t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("entry", t.entry());
        m.put("kind", t.kind());
        m.put("source", t.source());
        t.comment().ifPresent(c -> m.put("comment", c));
        t.addedAt().ifPresent(a -> m.put("addedAt", a.toString()));
        return m;
    }

    static Map<String, Object> allowlist(AllowlistRecord a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cidr", a.cidr());
        m.put("source", a.source());
        a.comment().ifPresent(c -> m.put("comment", c));
        a.addedAt().ifPresent(t -> m.put("addedAt", t.toString()));
        return m;
    }

    static Map<String, Object> offender(OffenderSummary o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", o.key());
        m.put("hitCount", o.hitCount());
        m.put("firstHit", str(o.firstHit()));
        m.put("lastHit", str(o.lastHit()));
        m.put("lastTrap", o.lastTrap());
        m.put("lastNode", o.lastNode());
        m.put("expiresAt", str(o.expiresAt()));
        m.put("reason", o.reason());
        m.put("cause", o.cause().kind().label());
        m.put("class", o.cause().confidence().label());
        if (o.cause().sensor() != null) {
            m.put("sensor", o.cause().sensor());
        }
        m.put("observed", o.cause().isObserved());
        return m;
    }

    static Map<String, Object> evidence(OffenderEvidence e) {
        Map<String, Object> m = offender(e.summary());
        m.put("traps", e.hits().stream().map(OffenderEvidence.Hit::trap).distinct().collect(Collectors.toList()));
        m.put("nodes", e.hits().stream().map(OffenderEvidence.Hit::node).distinct().collect(Collectors.toList()));
        List<Map<String, Object>> hits = e.hits().stream().map(h -> {
            Map<String, Object> hm = new LinkedHashMap<>();
            hm.put("id", h.id());
            hm.put("at", str(h.at()));
            hm.put("client", h.client());
            hm.put("trap", h.trap());
            hm.put("helo", h.helo());
            hm.put("mailFrom", h.mailFrom());
            hm.put("node", h.node());
            return hm;
        }).collect(Collectors.toList());
        m.put("hits", hits);
        return m;
    }

    static Map<String, Object> status(SpamtrapStatus s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", s.node());
        m.put("healthy", s.healthy());
        m.put("storeReachable", s.storeReachable());
        m.put("spoolDepth", s.spoolDepth());
        m.put("viewSize", s.viewSize());
        m.put("lastSyncAgeSeconds", s.lastSyncAge().map(d -> d.toMillis() / 1000.0).orElse(null));
        m.put("agentReachable", s.agentReachable().orElse(null));
        m.put("breakerState", s.breakerState().orElse(null));
        return m;
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }
}
