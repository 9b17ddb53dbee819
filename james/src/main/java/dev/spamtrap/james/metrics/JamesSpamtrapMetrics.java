package dev.spamtrap.james.metrics;

import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.core.admin.SpamtrapStatus;
import dev.spamtrap.core.firewall.FirewallClient;
import dev.spamtrap.core.metrics.SpamtrapMetrics;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.Metric;
import org.apache.james.metrics.api.MetricFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The spamtrap's metrics in James's registry, so {@code GET /metrics} shows them beside James's own
 * (Prometheus adds {@code _total} to counters). Counters: {@value #HITS}, {@value #HITS}{@code _<kind>},
 * {@value #REFUSALS}, {@value #REFUSALS}{@code _<how>}. Gauges, read from the node's status when scraped
 * ({@code -1} while a figure is unknown): {@value #SPOOL_DEPTH}, {@value #STORE_UP}, {@value #VIEW_SIZE},
 * {@value #SYNC_LAG}, and the firewall client's {@value #FW_QUEUED}, {@value #FW_SENT}, {@value #FW_REFUSED},
 * {@value #FW_DROPPED}; per loaded list, {@value #LIST_ENTRIES}{@code _<name>}, {@value #LIST_LOAD_FAILURES}{@code _<name>}
 * and the counters {@value #LIST_REFUSALS}{@code _<name>}, {@value #LIST_WOULD_REFUSE}{@code _<name>}. The tarpit's own
 * metrics are registered by the tarpit.
 */
public final class JamesSpamtrapMetrics implements SpamtrapMetrics {
    private static final Logger LOGGER = LoggerFactory.getLogger(JamesSpamtrapMetrics.class);
    public static final String HITS = "spamtrap_hits";
    public static final String REFUSALS = "spamtrap_refusals";
    public static final String BACKSCATTER = "spamtrap_backscatter";
    public static final String EXEMPT_HITS = "spamtrap_exempt_hits";
    /** Clients a protocol sensor caught, per sensor ({@code spamtrap_protocol_pregreet}) and per sensor and action. */
    public static final String PROTOCOL = "spamtrap_protocol";
    /** What observe mode let through: {@code spamtrap_would_refuse}, and per sensor ({@code spamtrap_would_refuse_pregreet}). */
    public static final String WOULD_REFUSE = "spamtrap_would_refuse";
    public static final String SPOOL_DEPTH = "spamtrap_spool_depth";
    public static final String STORE_UP = "spamtrap_store_up";
    public static final String VIEW_SIZE = "spamtrap_view_size";
    public static final String SYNC_LAG = "spamtrap_sync_lag_seconds";
    public static final String FW_QUEUED = "spamtrap_firewall_queued";
    public static final String FW_SENT = "spamtrap_firewall_sent";
    public static final String FW_REFUSED = "spamtrap_firewall_refused";
    public static final String FW_DROPPED = "spamtrap_firewall_dropped";
    /** Per loaded list ({@code lists}): {@code spamtrap_list_entries_<name>} (gauge: entries of the list in use). */
    public static final String LIST_ENTRIES = "spamtrap_list_entries";
    /** Per loaded list: loads that failed since start, the list in use kept (gauge). */
    public static final String LIST_LOAD_FAILURES = "spamtrap_list_load_failures";
    /** Per loaded list: its clients refused or tarpitted (counter). */
    public static final String LIST_REFUSALS = "spamtrap_list_refusals";
    /** Per loaded list that only observes: its clients let through (counter). */
    public static final String LIST_WOULD_REFUSE = "spamtrap_list_would_refuse";

    private final MetricFactory factory;
    private final Metric hits;
    private final Metric refusals;
    private final Map<String, Metric> byName = new ConcurrentHashMap<>();

    public JamesSpamtrapMetrics(MetricFactory factory, GaugeRegistry gauges, Supplier<Optional<FirewallClient>> firewall, Supplier<SpamtrapAdmin> admin) {
        this.factory = factory;
        this.hits = factory.generate(HITS);
        this.refusals = factory.generate(REFUSALS);
        // Registered up front so /metrics lists every series from the start, at zero.
        for (String kind : new String[] {"address", "domain", "pattern"}) {
            hitsOf(kind);
        }
        for (String how : new String[] {"refuse", "tarpit", "tarpit-full"}) {
            refusalsOf(how);
        }
        byName.computeIfAbsent(BACKSCATTER, factory::generate);
        byName.computeIfAbsent(WOULD_REFUSE, factory::generate);
        for (String sensor : new String[] {"pregreet", "http", "header"}) {
            byName.computeIfAbsent(PROTOCOL + "_" + sensor, factory::generate);
            byName.computeIfAbsent(WOULD_REFUSE + "_" + sensor, factory::generate);
        }
        for (String why : new String[] {"authenticated", "relay-authorized", "allowlisted"}) {
            exemptHitsOf(why);
        }
        Supplier<Optional<SpamtrapStatus>> status = () -> {
            try {
                return Optional.of(admin.get().status());
            } catch (RuntimeException e) {
                LOGGER.debug("Spamtrap status unavailable for metrics: {}", e.getMessage());
                return Optional.empty();
            }
        };
        gauge(gauges, SPOOL_DEPTH, () -> status.get().map(SpamtrapStatus::spoolDepth).orElse(-1L));
        gauge(gauges, STORE_UP, () -> status.get().map(s -> s.storeReachable() ? 1L : 0L).orElse(-1L));
        gauge(gauges, VIEW_SIZE, () -> status.get().map(SpamtrapStatus::viewSize).orElse(-1L));
        gauge(gauges, SYNC_LAG, () -> status.get().flatMap(SpamtrapStatus::lastSyncAge).map(d -> d.toMillis() / 1000L).orElse(-1L));
        Function<ToLongFunction<FirewallClient>, Supplier<Long>> fw = getter -> () -> firewall.get().map(getter::applyAsLong).orElse(0L);
        gauge(gauges, FW_QUEUED, fw.apply(FirewallClient::queued));
        gauge(gauges, FW_SENT, fw.apply(FirewallClient::acceptedCount));
        gauge(gauges, FW_REFUSED, fw.apply(FirewallClient::refusedCount));
        gauge(gauges, FW_DROPPED, fw.apply(FirewallClient::droppedCount));
    }

    private static void gauge(GaugeRegistry gauges, String name, Supplier<Long> value) {
        try {
            gauges.register(name, value::get);
        } catch (RuntimeException e) {
            LOGGER.warn("Gauge {} not registered: {}", name, e.getMessage());
        }
    }

    @Override
    public void hit(String trapKind) {
        hits.increment();
        hitsOf(trapKind).increment();
    }

    @Override
    public void refusal(String how) {
        refusals.increment();
        refusalsOf(how).increment();
    }

    @Override
    public void backscatter() {
        byName.computeIfAbsent(BACKSCATTER, factory::generate).increment();
    }

    @Override
    public void protocol(String sensor, String action) {
        byName.computeIfAbsent(PROTOCOL + "_" + sensor, factory::generate).increment();
        byName.computeIfAbsent(PROTOCOL + "_" + sensor + "_" + action, factory::generate).increment();
        if ("observe".equals(action)) {
            byName.computeIfAbsent(WOULD_REFUSE, factory::generate).increment();
            byName.computeIfAbsent(WOULD_REFUSE + "_" + sensor, factory::generate).increment();
        }
    }

    @Override
    public void wouldRefuse(String cause) {
        byName.computeIfAbsent(WOULD_REFUSE, factory::generate).increment();
        int colon = cause.lastIndexOf(':');
        String what = colon >= 0 ? cause.substring(colon + 1) : cause;
        byName.computeIfAbsent(WOULD_REFUSE + "_" + what.replace('-', '_'), factory::generate).increment();
    }

    /** Registers each loaded list's series up front: entries and load failures (gauges), refusals (counters at zero). */
    public void lists(GaugeRegistry gauges, dev.spamtrap.core.blocklist.Blocklists lists) {
        for (dev.spamtrap.core.blocklist.Blocklist l : lists.all()) {
            gauge(gauges, LIST_ENTRIES + "_" + l.name(), () -> (long) l.loaded().entries());
            gauge(gauges, LIST_LOAD_FAILURES + "_" + l.name(), l::loadFailures);
            byName.computeIfAbsent(LIST_REFUSALS + "_" + l.name(), factory::generate);
            byName.computeIfAbsent(LIST_WOULD_REFUSE + "_" + l.name(), factory::generate);
        }
    }

    @Override
    public void listRefusal(String list, String how) {
        String name = ("observe".equals(how) ? LIST_WOULD_REFUSE : LIST_REFUSALS) + "_" + list;
        byName.computeIfAbsent(name, factory::generate).increment();
    }

    @Override
    public void exemptHit(String why) {
        exemptHitsOf(why).increment();
    }

    private Metric exemptHitsOf(String why) {
        return byName.computeIfAbsent(EXEMPT_HITS + "_" + why.replace('-', '_'), factory::generate);
    }

    private Metric hitsOf(String kind) {
        return byName.computeIfAbsent(HITS + "_" + kind, factory::generate);
    }

    private Metric refusalsOf(String how) {
        return byName.computeIfAbsent(REFUSALS + "_" + how.replace('-', '_'), factory::generate);
    }
}
