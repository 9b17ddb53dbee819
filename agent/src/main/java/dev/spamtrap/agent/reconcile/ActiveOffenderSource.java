package dev.spamtrap.agent.reconcile;

import dev.spamtrap.core.offender.Offender;

import java.util.List;
import java.util.concurrent.CompletionStage;

/** Where the agent reads the offenders that should be blocked now (Cassandra in production, a fake in tests). */
public interface ActiveOffenderSource extends AutoCloseable {
    /** Every offender whose entry has not expired. May be called from the reconciler thread only; may block briefly to connect. */
    CompletionStage<List<Offender>> loadActive();

    String describe();

    @Override
    default void close() {
    }
}
