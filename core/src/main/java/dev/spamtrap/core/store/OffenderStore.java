package dev.spamtrap.core.store;

import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.TrapHit;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Where offenders, traps and the allowlist live, shared by every James node. Every call is asynchronous:
 * callers on an SMTP event loop must never wait on the returned stage.
 */
public interface OffenderStore extends AutoCloseable {
    /** Records a hit (reading the history to apply the policy) and returns the record written. */
    CompletionStage<Offender> record(TrapHit hit);

    /** Every offender whose entry has not expired. */
    CompletionStage<List<Offender>> loadActive();

    /** Removes an offender before its entry expires. */
    CompletionStage<Void> remove(String ip);

    /** Raw trap entries from the store's trap table (validated by the caller). */
    CompletionStage<List<String>> loadTrapEntries();

    /** Raw CIDR ranges from the store's allowlist table (validated by the caller). */
    CompletionStage<List<String>> loadAllowlistEntries();

    @Override
    void close();
}
