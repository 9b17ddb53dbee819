package dev.spamtrap.core.admin;

import dev.spamtrap.core.trap.TrapEntry;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * What an administrator can see and change, shared by every James node: the contract between the store
 * (which implements it) and the WebAdmin routes / commands (which call it). Every method that touches
 * Cassandra is asynchronous; a change made here reaches every node's view (and, for offenders, the
 * firewall agents) through the change feed within seconds.
 *
 * <p>Validation errors are reported as {@link IllegalArgumentException} (thrown at once, or completing
 * the stage exceptionally) whose message names the bad value and why.
 */
public interface SpamtrapAdmin {

    // ---- traps ----

    /** Trap entries from the shared table and from the node's file, table entries first, in a stable order. */
    CompletionStage<Page<TrapRecord>> listTraps(int offset, int limit);

    /** Adds a table entry (exact address, {@code @domain} or {@code /regex/}); false if it was already there. */
    CompletionStage<Boolean> addTrap(String entry, String comment);

    /** Removes a table entry; false if the table had no such entry (file entries cannot be removed here). */
    CompletionStage<Boolean> removeTrap(String entry);

    /** Adds many table entries at once (bulk import); returns how many were new. Bad lines are not added. */
    CompletionStage<ImportResult> importTraps(List<String> entries, String comment);

    /** Which trap entry, if any, an address matches right now on this node. No store access. */
    Optional<TrapEntry> checkAddress(String address);

    // ---- offenders ----

    /**
     * Up to {@code limit} active offenders matching {@code filter}, in the store's own order, from {@code cursor} (null:
     * the start). Each call reads only its page(s), so walking a million offenders is one pass over the table. A
     * malformed cursor is an IllegalArgumentException.
     */
    CompletionStage<CursorPage<OffenderSummary>> offenders(OffenderFilter filter, String cursor, int limit);

    /** One offender (by key: an IPv4 address, an IPv6 /64 such as {@code 2001:db8:1:2::/64}, or a prefix) with its evidence. */
    CompletionStage<Optional<OffenderEvidence>> offender(String key);

    /** Lists a client or prefix by hand for the given lifetime (capped by the policy's maximum). */
    CompletionStage<OffenderSummary> listByHand(String key, Duration lifetime, String reason);

    /**
     * Forgives an offender: removed from Cassandra, from every node's view and (UNBLOCK) from the firewall.
     * Its escalation history is cleared too. False if it was not listed.
     */
    CompletionStage<Boolean> forgive(String key);

    // ---- allowlist ----

    CompletionStage<Page<AllowlistRecord>> listAllowlist(int offset, int limit);

    /** Adds a CIDR range to the shared allowlist and forgives every listed offender inside it; returns how many were forgiven. */
    CompletionStage<Integer> addAllowlist(String cidr, String comment);

    /** False if the table had no such range. */
    CompletionStage<Boolean> removeAllowlist(String cidr);

    // ---- health ----

    /** This node's health figures; no store access, never blocks. */
    SpamtrapStatus status();
}
