package dev.spamtrap.james.metrics;

import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.core.admin.SpamtrapStatus;
import org.apache.james.metrics.api.Gauge;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class JamesSpamtrapMetricsTest {
    private final RecordingMetricFactory factory = new RecordingMetricFactory();
    private final Map<String, Gauge<?>> gauges = new HashMap<>();
    private final GaugeRegistry registry = new GaugeRegistry() {
        @Override
        public <T> GaugeRegistry register(String name, Gauge<T> gauge) {
            if (gauges.putIfAbsent(name, gauge) != null) {
                throw new IllegalArgumentException(name + " already registered");
            }
            return this;
        }

        @Override
        public <T> SettableGauge<T> settableGauge(String name) {
            throw new UnsupportedOperationException();
        }
    };
    private volatile SpamtrapStatus status = new SpamtrapStatus("n1", true, 4, 12, Duration.ofMillis(2500), true, "closed");
    private volatile boolean adminAvailable = true;

    private SpamtrapAdmin admin() {
        if (!adminAvailable) {
            throw new IllegalStateException("no admin");
        }
        return (SpamtrapAdmin) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {SpamtrapAdmin.class}, (p, m, a) -> {
            if (m.getName().equals("status")) {
                return status;
            }
            throw new UnsupportedOperationException(m.getName());
        });
    }

    @Test
    void countsHitsByKindAndRefusalsByHow() {
        JamesSpamtrapMetrics metrics = new JamesSpamtrapMetrics(factory, registry, Optional::empty, this::admin);
        metrics.hit("domain");
        metrics.hit("address");
        metrics.hit("domain");
        metrics.refusal("tarpit-full");
        assertThat(factory.countFor("spamtrap_hits")).isEqualTo(3);
        assertThat(factory.countFor("spamtrap_hits_domain")).isEqualTo(2);
        assertThat(factory.countFor("spamtrap_hits_address")).isEqualTo(1);
        assertThat(factory.countFor("spamtrap_refusals")).isEqualTo(1);
        assertThat(factory.countFor("spamtrap_refusals_tarpit_full")).isEqualTo(1);
    }

    @Test
    void gaugesReadTheStatusWhenScrapedAndMinusOneWhileUnknown() {
        new JamesSpamtrapMetrics(factory, registry, Optional::empty, this::admin);
        assertThat(gauges.get("spamtrap_spool_depth").get()).isEqualTo(4L);
        assertThat(gauges.get("spamtrap_view_size").get()).isEqualTo(12L);
        assertThat(gauges.get("spamtrap_store_up").get()).isEqualTo(1L);
        assertThat(gauges.get("spamtrap_sync_lag_seconds").get()).isEqualTo(2L);
        assertThat(gauges.get("spamtrap_firewall_sent").get()).isEqualTo(0L);
        status = new SpamtrapStatus("n1", false, 9, 12, null, null, null);
        assertThat(gauges.get("spamtrap_store_up").get()).isEqualTo(0L);
        assertThat(gauges.get("spamtrap_spool_depth").get()).isEqualTo(9L);
        assertThat(gauges.get("spamtrap_sync_lag_seconds").get()).isEqualTo(-1L);
        adminAvailable = false;
        assertThat(gauges.get("spamtrap_store_up").get()).isEqualTo(-1L);
    }
}
