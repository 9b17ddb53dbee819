package dev.spamtrap.smtp.tarpit;

import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.Metric;
import org.apache.james.metrics.api.MetricFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The tarpit's counters in James's metrics (WebAdmin {@code GET /metrics}, Prometheus text; JMX when enabled).
 * Names as registered in James's Dropwizard registry; Prometheus shows the three counters with a
 * {@code _total} suffix:
 * <ul>
 * <li>{@value #ACTIVE} (gauge): connections in the tarpit now, on this node;</li>
 * <li>{@value #CONNECTIONS}: connections ever admitted to the tarpit;</li>
 * <li>{@value #REFUSED_FULL}: offenders refused at once because the tarpit was full (node or client limit);</li>
 * <li>{@value #ATTACKER_SECONDS}: seconds tarpitted clients spent connected, added when each connection ends.</li>
 * </ul>
 */
public final class TarpitCounters {
    private static final Logger LOGGER = LoggerFactory.getLogger(TarpitCounters.class);
    public static final String ACTIVE = "spamtrap_tarpit_active";
    public static final String CONNECTIONS = "spamtrap_tarpit_connections";
    public static final String REFUSED_FULL = "spamtrap_tarpit_refused_full";
    public static final String ATTACKER_SECONDS = "spamtrap_tarpit_attacker_seconds";

    /** Node-wide (one per class loader, i.e. per James): every SMTP server's tarpit counts here. */
    private static final AtomicInteger NODE_ACTIVE = new AtomicInteger();
    private static final AtomicLong NODE_ATTACKER_MILLIS = new AtomicLong();

    private final Metric connections;
    private final Metric refusedFull;
    private final Metric attackerSeconds;

    public TarpitCounters(MetricFactory factory, GaugeRegistry gauges) {
        this.connections = factory.generate(CONNECTIONS);
        this.refusedFull = factory.generate(REFUSED_FULL);
        this.attackerSeconds = factory.generate(ATTACKER_SECONDS);
        if (gauges != null) {
            try {
                gauges.register(ACTIVE, NODE_ACTIVE::get);
            } catch (RuntimeException e) {
                // a second SMTP server (or a re-init) registers the same node-wide gauge again
                LOGGER.debug("Gauge {} already registered", ACTIVE);
            }
        }
    }

    public static int activeNow() {
        return NODE_ACTIVE.get();
    }

    void admitted() {
        NODE_ACTIVE.incrementAndGet();
        connections.increment();
    }

    void refusedFull() {
        refusedFull.increment();
    }

    /** One tarpitted connection ended after {@code millis}; fractions of seconds carry over to the next one. */
    void released(long millis) {
        NODE_ACTIVE.decrementAndGet();
        long ms = Math.max(0, millis);
        long after = NODE_ATTACKER_MILLIS.addAndGet(ms);
        long seconds = after / 1000 - (after - ms) / 1000;
        if (seconds > 0) {
            attackerSeconds.add((int) Math.min(Integer.MAX_VALUE, seconds));
        }
    }
}
