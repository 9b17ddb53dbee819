package dev.spamtrap.agent.reconcile;

import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.store.CassandraOffenderStore;
import dev.spamtrap.core.store.CassandraSettings;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Active offenders from the shared Cassandra keyspace, through the same store James writes with. */
public final class CassandraOffenderSource implements ActiveOffenderSource {
    private final CassandraSettings settings;
    private final CassandraOffenderStore store;

    public CassandraOffenderSource(CassandraSettings settings, OffenderPolicy policy, Clock clock) {
        this.settings = settings;
        this.store = new CassandraOffenderStore(settings, policy, clock);
    }

    @Override
    public CompletionStage<List<Offender>> loadActive() {
        if (!store.isConnected()) {
            try {
                store.connect();
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        return store.loadActive();
    }

    @Override
    public String describe() {
        return "Cassandra " + settings.contactPoints() + " keyspace '" + settings.keyspace() + "'";
    }

    @Override
    public void close() {
        store.close();
    }
}
