package dev.spamtrap.agent.server;

import dev.spamtrap.core.firewall.MessageException;
import dev.spamtrap.core.firewall.SignedMessage;

import java.time.Clock;
import java.time.Duration;

/**
 * Refuses authenticated messages that are stale (signed more than {@code window} ago, or more than
 * {@code window} in the future) or replayed (nonce already seen within the window). Checked only after the
 * signature, so forged messages can neither fill the nonce memory nor burn a real sender's nonce.
 */
public final class ReplayGuard {
    private final Clock clock;
    private final java.util.function.LongSupplier nanoTime;
    private final long windowMillis;
    private final NonceCache nonces;
    private final long startedNanos;

    /**
     * @param clock    the wall clock, which signers share: freshness is judged on it
     * @param nanoTime the monotonic clock: how long the agent has been up is measured on it, so a wall-clock step
     *                 never makes fresh messages look "signed before the agent started"
     */
    public ReplayGuard(Clock clock, java.util.function.LongSupplier nanoTime, Duration window, int maxNonces) {
        this.clock = clock;
        this.nanoTime = nanoTime;
        // the nonce memory starts empty at each start: anything signed before it is refused, so a message captured
        // before a restart cannot be replayed right after it
        this.startedNanos = nanoTime.getAsLong();
        this.windowMillis = window.toMillis();
        this.nonces = new NonceCache(maxNonces);
    }

    public void check(SignedMessage m) throws MessageException {
        long now = clock.millis();
        // when the agent started, on the wall clock as it reads now (after any step)
        long startedAt = now - (nanoTime.getAsLong() - startedNanos) / 1_000_000;
        long age = now - m.timestampMillis();
        if (age > windowMillis) {
            throw new MessageException(MessageException.Kind.STALE, "stale message: signed " + age + " ms ago, older than the "
                + windowMillis + " ms window (message.maxAge)");
        }
        if (m.timestampMillis() < startedAt) {
            throw new MessageException(MessageException.Kind.STALE, "message signed before the agent started (" + (startedAt - m.timestampMillis())
                + " ms earlier); refused so that nothing recorded before a restart can be replayed");
        }
        if (-age > windowMillis) {
            throw new MessageException(MessageException.Kind.STALE, "message timestamp is " + (-age) + " ms in the future, beyond the "
                + windowMillis + " ms window (clocks out of step?)");
        }
        switch (nonces.remember(m.nonce(), m.timestampMillis() + windowMillis, now)) {
            case SEEN:
                throw new MessageException(MessageException.Kind.REPLAYED, "replayed message: nonce " + m.nonce() + " was already used");
            case FULL:
                throw new MessageException(MessageException.Kind.REPLAYED, "too many messages within the window; nonce memory is full, refusing");
            default:
                break;
        }
    }

    int remembered() {
        return nonces.size();
    }
}
