package dev.spamtrap.smtp.tarpit;

import org.apache.james.metrics.api.Metric;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class TarpitCountersTest {
    static final class Metrics implements MetricFactory {
        final Map<String, AtomicLong> values = new ConcurrentHashMap<>();

        @Override
        public Metric generate(String name) {
            AtomicLong v = values.computeIfAbsent(name, n -> new AtomicLong());
            return new Metric() {
                @Override public void increment() { v.incrementAndGet(); }
                @Override public void decrement() { v.decrementAndGet(); }
                @Override public void add(int value) { v.addAndGet(value); }
                @Override public void remove(int value) { v.addAndGet(-value); }
                @Override public long getCount() { return v.get(); }
            };
        }

        @Override
        public TimeMetric timer(String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <T> Publisher<T> decoratePublisherWithTimerMetric(String name, Publisher<T> publisher) {
            return publisher;
        }

        @Override
        public <T> Publisher<T> decoratePublisherWithTimerMetricLogP99(String name, Publisher<T> publisher) {
            return publisher;
        }

        long get(String name) {
            return values.getOrDefault(name, new AtomicLong()).get();
        }
    }

    @Test
    void countsConnectionsRefusalsAndAttackerSecondsCarryingFractions() {
        Metrics m = new Metrics();
        TarpitCounters c = new TarpitCounters(m, null);
        int before = TarpitCounters.activeNow();
        c.admitted();
        c.admitted();
        c.admitted();
        assertThat(TarpitCounters.activeNow()).isEqualTo(before + 3);
        c.refusedFull();
        long secondsBefore = m.get(TarpitCounters.ATTACKER_SECONDS);
        c.released(1_500);
        c.released(1_500);
        c.released(61_999);
        assertThat(TarpitCounters.activeNow()).isEqualTo(before);
        assertThat(m.get(TarpitCounters.CONNECTIONS)).isEqualTo(3);
        assertThat(m.get(TarpitCounters.REFUSED_FULL)).isEqualTo(1);
        // 64.999 s in all (plus whatever fraction other tests left over): 64 or 65 whole seconds
        assertThat(m.get(TarpitCounters.ATTACKER_SECONDS) - secondsBefore).isBetween(64L, 65L);
    }
}
