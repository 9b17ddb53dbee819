package dev.spamtrap.agent.status;

import com.sun.net.httpserver.HttpServer;
import dev.spamtrap.agent.apply.AgentStats;
import dev.spamtrap.agent.apply.Applier;
import dev.spamtrap.agent.apply.RebuildReport;
import dev.spamtrap.agent.safety.CircuitBreaker;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * {@code GET /metrics} on a loopback port ({@code status.listen}): what the agent applied and refused (by
 * reason), its breaker, the size of its sets and the last reconcile with its difference, as Prometheus text.
 */
public final class StatusServer implements AutoCloseable {
    private final HttpServer server;

    public StatusServer(InetSocketAddress at, Applier applier, CircuitBreaker breaker) throws IOException {
        server = HttpServer.create(at, 8);
        server.createContext("/metrics", exchange -> {
            byte[] body = text(applier, breaker).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
    }

    public InetSocketAddress start() {
        server.start();
        return server.getAddress();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    static String text(Applier applier, CircuitBreaker breaker) {
        AgentStats s = applier.stats();
        StringBuilder b = new StringBuilder();
        b.append("# TYPE spamtrap_agent_applied_total counter\nspamtrap_agent_applied_total ").append(s.applied()).append('\n');
        b.append("# TYPE spamtrap_agent_refused_total counter\n");
        for (Map.Entry<String, Long> e : s.refusedByReason().entrySet()) {
            b.append("spamtrap_agent_refused_total{reason=\"").append(e.getKey()).append("\"} ").append(e.getValue()).append('\n');
        }
        b.append("# TYPE spamtrap_agent_breaker_open gauge\nspamtrap_agent_breaker_open ").append(breaker.isOpen() ? 1 : 0).append('\n');
        b.append("# TYPE spamtrap_agent_breaker_refused_total counter\nspamtrap_agent_breaker_refused_total ").append(breaker.refusedTotal()).append('\n');
        b.append("# TYPE spamtrap_agent_entries gauge\nspamtrap_agent_entries ").append(applier.size()).append('\n');
        b.append("# TYPE spamtrap_agent_table_restored_total counter\nspamtrap_agent_table_restored_total ").append(s.tablesRestored()).append('\n');
        b.append("# TYPE spamtrap_agent_drift_repaired_total counter\nspamtrap_agent_drift_repaired_total ").append(s.driftRepaired()).append('\n');
        b.append("# TYPE spamtrap_agent_kernel_known gauge\nspamtrap_agent_kernel_known ").append(applier.kernelKnown() ? 1 : 0).append('\n');
        RebuildReport r = s.lastReconcile();
        if (r != null) {
            b.append("# TYPE spamtrap_agent_last_reconcile_timestamp_seconds gauge\nspamtrap_agent_last_reconcile_timestamp_seconds ")
                .append(s.lastReconcileAt() / 1000).append('\n');
            b.append("# TYPE spamtrap_agent_last_reconcile gauge\n");
            b.append("spamtrap_agent_last_reconcile{what=\"added\"} ").append(r.added).append('\n');
            b.append("spamtrap_agent_last_reconcile{what=\"removed\"} ").append(r.removed).append('\n');
            b.append("spamtrap_agent_last_reconcile{what=\"refreshed\"} ").append(r.refreshed).append('\n');
            b.append("spamtrap_agent_last_reconcile{what=\"held_by_breaker\"} ").append(r.refusedByBreaker).append('\n');
            b.append("spamtrap_agent_last_reconcile{what=\"millis\"} ").append(r.millis).append('\n');
        }
        return b.toString();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
