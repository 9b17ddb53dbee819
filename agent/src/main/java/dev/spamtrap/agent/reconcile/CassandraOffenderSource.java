package dev.spamtrap.agent.reconcile;

import dev.spamtrap.core.net.CidrRange;

import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.store.CassandraOffenderStore;
import dev.spamtrap.core.store.CassandraSettings;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Active offenders of class trap from the shared Cassandra keyspace (never a protocol sensor's), through the same store
 * James writes with, without any whose
 * key overlaps a range of the shared allowlist table (what administrators add through WebAdmin): the agent's own
 * allowlist file is a rail of its own, and this keeps a prefix listed around a shared allowlisted range out of the
 * kernel at every rebuild and reconcile, as James's firewall client keeps it out of live commands.
 */
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
        return store.loadActive().thenApply(CassandraOffenderSource::trapClassOnly)
            .thenCombine(store.loadAllowlistEntries(), CassandraOffenderSource::withoutAllowlisted);
    }

    /** A protocol sensor's listing (or an observed one) is dealt with at SMTP only: never blocked in the kernel. */
    static List<Offender> trapClassOnly(List<Offender> offenders) {
        List<Offender> kept = new java.util.ArrayList<>(offenders.size());
        for (Offender o : offenders) {
            if (!o.cause().isWeak()) {
                kept.add(o);
            }
        }
        return kept;
    }

    /** The offenders whose key (an address or prefix) overlaps none of the allowlisted ranges (unreadable ones are ignored). */
    static List<Offender> withoutAllowlisted(List<Offender> offenders, List<String> allowlisted) {
        List<CidrRange> ranges = new java.util.ArrayList<>();
        for (String entry : allowlisted) {
            try {
                ranges.add(CidrRange.parse(entry));
            } catch (IllegalArgumentException e) {
                // a row the store would refuse to write; James's own load says so
            }
        }
        if (ranges.isEmpty()) {
            return offenders;
        }
        List<Offender> kept = new java.util.ArrayList<>(offenders.size());
        for (Offender o : offenders) {
            if (!overlapsAny(o.key(), ranges)) {
                kept.add(o);
            }
        }
        return kept;
    }

    private static boolean overlapsAny(String key, List<CidrRange> ranges) {
        CidrRange range;
        try {
            range = CidrRange.parse(key);
        } catch (IllegalArgumentException e) {
            return false;
        }
        for (CidrRange a : ranges) {
            if (a.overlaps(range)) {
                return true;
            }
        }
        return false;
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
