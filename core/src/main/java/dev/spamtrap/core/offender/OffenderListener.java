package dev.spamtrap.core.offender;

/**
 * Told when this node has stored an offender record, e.g. to have the firewall agent block it.
 * Called on a driver or scheduler thread, never on an SMTP thread; must not block.
 */
public interface OffenderListener {
    void offenderRecorded(Offender offender);

    default void offenderRemoved(String key) {
    }
}
