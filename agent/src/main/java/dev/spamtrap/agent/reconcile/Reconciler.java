package dev.spamtrap.agent.reconcile;

import dev.spamtrap.agent.apply.Applier;
import dev.spamtrap.agent.apply.RebuildReport;
import dev.spamtrap.agent.apply.Snapshot;
import dev.spamtrap.agent.net.Prefix;
import dev.spamtrap.agent.safety.SafetyRails;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.firewall.WireFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Makes the firewall match the store: at start (rebuilding the sets in one transaction) and then every
 * {@code interval}. A failed load (store down) is retried every {@code retryInterval} and leaves the firewall
 * as it is: blocks already in the kernel keep their own lifetimes. Entries that the safety rails forbid are
 * left out, with a log line.
 */
public final class Reconciler implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(Reconciler.class);
    private static final int MAX_LOGGED_REFUSALS = 10;

    private final ActiveOffenderSource source;
    private final SafetyRails rails;
    private final Applier applier;
    private final Clock clock;
    private final Duration interval;
    private final Duration retryInterval;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "agent-reconciler");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean startupDone;

    public Reconciler(ActiveOffenderSource source, SafetyRails rails, Applier applier, Clock clock, Duration interval, Duration retryInterval) {
        this.source = source;
        this.rails = rails;
        this.applier = applier;
        this.clock = clock;
        this.interval = interval;
        this.retryInterval = retryInterval;
    }

    /** Runs the start-up rebuild now and schedules the periodic ones; the future says how the first one went. */
    public CompletableFuture<RebuildReport> start() {
        CompletableFuture<RebuildReport> first = new CompletableFuture<>();
        scheduler.execute(() -> runOnce(first));
        return first;
    }

    private void runOnce(CompletableFuture<RebuildReport> done) {
        boolean startup = !startupDone;
        reconcile(startup).whenComplete((report, error) -> {
            Duration next = interval;
            if (error != null) {
                LOGGER.error("{} from {} failed: {}; the firewall is left as it is, retrying in {} s", startup ? "Start-up rebuild" : "Reconcile",
                    source.describe(), rootMessage(error), retryInterval.toSeconds());
                next = retryInterval;
            } else if (!report.done) {
                next = retryInterval;
            } else {
                startupDone = true;
            }
            done.complete(report);
            if (!scheduler.isShutdown()) {
                try {
                    scheduler.schedule(() -> runOnce(new CompletableFuture<>()), next.toMillis(), TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException ignored) {
                    // closing
                }
            }
        });
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && (t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)) {
            t = t.getCause();
        }
        return t.toString();
    }

    /** One load, then a full rebuild ({@code startup}) or a reconcile by difference; both pass every rail, the breaker included. */
    public CompletableFuture<RebuildReport> reconcile(boolean startup) {
        long loadStartedAt = clock.millis();
        CompletableFuture<List<Offender>> load;
        try {
            load = source.loadActive().toCompletableFuture();
        } catch (RuntimeException e) {
            load = CompletableFuture.failedFuture(e);
        }
        // parsed on the reconciler's own thread, not on the store driver's I/O thread that completes the load
        return load.thenComposeAsync(offenders -> {
            long loaded = clock.millis();
            Snapshot snapshot = new Snapshot(offenders.size());
            int malformed = 0;
            int protectedCount = 0;
            for (Offender o : offenders) {
                String key = o.key();
                long recorded = o.lastHit() != null ? o.lastHit().toEpochMilli() : o.firstHit() != null ? o.firstHit().toEpochMilli() : 0;
                long bits = Prefix.plainIpv4Bits(key);
                if (bits > 0 && rails.allowsHost4((int) bits)) {
                    // nearly every offender: a plain IPv4 address the rails let through, taken with no object made
                    snapshot.addHost4((int) bits, o.expiresAt().toEpochMilli(), recorded);
                    continue;
                }
                Prefix p;
                try {
                    p = Prefix.parse(key);
                } catch (IllegalArgumentException e) {
                    if (malformed++ < MAX_LOGGED_REFUSALS) {
                        LOGGER.warn("Skipping offender '{}' from {}: malformed address: {}", WireFormat.printable(key), source.describe(), e.getMessage());
                    }
                    continue;
                }
                Optional<String> why = rails.refusal(p);
                if (why.isPresent()) {
                    if (protectedCount++ < MAX_LOGGED_REFUSALS) {
                        LOGGER.warn("REFUSED offender {} from {}: {}", p, source.describe(), why.get());
                    }
                    continue;
                }
                snapshot.add(p, o.expiresAt().toEpochMilli(), recorded);
            }
            if (malformed + protectedCount > 0) {
                LOGGER.warn("{}: {} malformed and {} protected offender(s) left out of the firewall", source.describe(), malformed, protectedCount);
            }
            long parsed = clock.millis();
            return applier.rebuild(snapshot, loadStartedAt, startup).thenApply(report -> {
                if (report.done) {
                    // one line per reconcile, with its difference
                    LOGGER.info("{} from {}: {} active offender(s) read in {} ms; {}", startup ? "Start-up rebuild" : "Reconcile",
                        source.describe(), offenders.size(), loaded - loadStartedAt + (parsed - loaded), report);
                }
                return report;
            });
        }, scheduler);
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        source.close();
    }
}
