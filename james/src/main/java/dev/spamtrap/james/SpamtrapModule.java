package dev.spamtrap.james;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.spamtrap.core.admin.SpamtrapAdmin;
import dev.spamtrap.core.metrics.SpamtrapEvents;
import dev.spamtrap.core.metrics.SpamtrapMetrics;
import dev.spamtrap.core.runtime.Spamtrap;
import dev.spamtrap.core.trap.CompromisedAccounts;
import dev.spamtrap.james.metrics.JamesSpamtrapMetrics;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.MetricFactory;

/**
 * The spamtrap's James wiring: {@code guice.extension.module=dev.spamtrap.james.SpamtrapModule} in
 * {@code conf/extensions.properties}. James builds hooks, mailets and WebAdmin routes from the one child
 * injector this module joins, so each singleton here exists once per James: one runtime (read from
 * {@code conf/spamtrap.properties}, closed when the JVM stops), one admin facade, one set of metrics.
 */
public class SpamtrapModule extends AbstractModule {

    @Provides
    @Singleton
    Spamtrap spamtrap(FileSystem fileSystem) {
        return SpamtrapRuntimeLoader.start(fileSystem, SpamtrapRuntimeLoader.DEFAULT_LOCATION);
    }

    @Provides
    @Singleton
    SpamtrapAdmin admin(Spamtrap spamtrap) {
        return spamtrap.admin();
    }

    @Provides
    @Singleton
    SpamtrapMetrics metrics(MetricFactory metricFactory, GaugeRegistry gauges, Spamtrap spamtrap, com.google.inject.Provider<SpamtrapAdmin> admin) {
        JamesSpamtrapMetrics metrics = new JamesSpamtrapMetrics(metricFactory, gauges, spamtrap::firewall, admin::get);
        metrics.lists(gauges, spamtrap.blocklists());
        return metrics;
    }

    /** Authenticated trap hits by account, in memory on this node (read by {@code CompromisedAccountRoutes}). */
    @Provides
    @Singleton
    CompromisedAccounts compromisedAccounts(Spamtrap spamtrap) {
        return new CompromisedAccounts(spamtrap.clock());
    }

    @Provides
    @Singleton
    SpamtrapEvents events(SpamtrapMetrics metrics) {
        return new SpamtrapEvents(metrics);
    }
}
