package dev.spamtrap.core.store;

import com.datastax.oss.driver.api.core.cql.Row;
import dev.spamtrap.core.offender.Cause;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.offender.TrapHit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One offender key's partition as read: its listing (the static columns) and the hits in its evidence slots (the 16
 * newest counted), and
 * the pure step that adds hits to it ({@link #record}). Two nodes that read the same record and add the same hits
 * compute the same listing; where they read different records, Cassandra keeps the write with the larger
 * {@link #writeTime}: the higher forgive generation, then the later listing end, then the larger hit count. So a
 * listing is never shortened by a write computed from an older read, and a forgive is never undone by one.
 */
final class ClientRecord {
    static final int SLOTS = Schema.EVIDENCE_SLOTS;
    /** Write times count listing ends in seconds from here (32 bits: until 2156). */
    private static final long BASE_SECONDS = 1_577_836_800L; // 2020-01-01
    private static final int MAX_GENERATION = 1023;
    private static final int MAX_COUNTED = (1 << 20) - 1;

    final String key;
    Instant expiresAt;
    Instant listedAt;
    int offences;
    int hitCount;
    Instant firstHit;
    Instant lastHit;
    String trap;
    String helo;
    String mailFrom;
    String node;
    String reason;
    String cause;
    int generation;
    Instant forgivenAt;
    final String[] slotIds = new String[SLOTS];
    final Instant[] slotAts = new Instant[SLOTS];

    ClientRecord(String key) {
        this.key = key;
    }

    /** The record from a read of the whole partition (statics on every row; a row's slot null when it has none). */
    static ClientRecord of(String key, Iterable<Row> rows) {
        ClientRecord r = new ClientRecord(key);
        boolean first = true;
        for (Row row : rows) {
            if (first) {
                r.readListing(row);
                first = false;
            }
            if (!row.isNull("slot")) {
                int slot = row.getInt("slot");
                if (slot >= 0 && slot < SLOTS) {
                    r.slotIds[slot] = row.getString("hit_id");
                    r.slotAts[slot] = row.getInstant("hit_at");
                }
            }
        }
        return r;
    }

    /** Reads the static columns ({@link Statements#LISTING_COLUMNS}). */
    ClientRecord readListing(Row row) {
        expiresAt = row.getInstant("expires_at");
        listedAt = row.getInstant("listed_at");
        offences = row.isNull("offences") ? 0 : row.getInt("offences");
        hitCount = row.isNull("hit_count") ? 0 : row.getInt("hit_count");
        firstHit = row.getInstant("first_hit");
        lastHit = row.getInstant("last_hit");
        trap = row.getString("trap");
        helo = row.getString("helo");
        mailFrom = row.getString("mail_from");
        node = row.getString("node");
        reason = row.getString("reason");
        cause = row.getString("cause");
        generation = row.isNull("generation") ? 0 : row.getInt("generation");
        forgivenAt = row.getInstant("forgiven_at");
        return this;
    }

    /** Nothing stored under the key: no listing, no marker, no evidence. */
    boolean isEmpty() {
        if (expiresAt != null || reason != null || hitCount != 0 || generation != 0) {
            return false;
        }
        for (String id : slotIds) {
            if (id != null) {
                return false;
            }
        }
        return true;
    }

    boolean isForgiven() {
        return "forgiven".equals(reason);
    }

    /** A protocol sensor's or an observed listing (weak): a trap hit during it starts a trap listing. */
    boolean isProtocol() {
        return reason != null && (reason.startsWith("protocol:") || reason.startsWith("observe:"));
    }

    boolean activeAt(Instant now) {
        return expiresAt != null && expiresAt.isAfter(now) && !isForgiven();
    }

    /** The listing as an {@link Offender} (expired at the epoch when there is none). */
    Offender offender() {
        return new Offender(key, firstHit, lastHit, hitCount, trap, helo, mailFrom, node, expiresAt == null || isForgiven() ? Instant.EPOCH : expiresAt,
            Cause.fromStored(reason, offences));
    }

    /**
     * Cassandra's write time for this listing's cells: forgive generation (10 bits), then the listing end in seconds (32
     * bits), then the hit count (20 bits). The largest wins, whatever order writes land in and whatever the writers'
     * clocks say.
     */
    static long writeTime(int generation, Instant expiresAt, int hitCount) {
        long gen = Math.max(0, Math.min(generation, MAX_GENERATION));
        long seconds = expiresAt == null ? 0 : Math.max(0, Math.min(0xFFFF_FFFFL, expiresAt.getEpochSecond() - BASE_SECONDS));
        long count = Math.max(0, Math.min(hitCount, MAX_COUNTED));
        return (gen << 52) | (seconds << 20) | count;
    }

    /** {@link #writeTime} of this record's listing: the write time of every cell a record write sets. */
    long writeTime() {
        return writeTime(generation, expiresAt, hitCount);
    }

    /** A forgive's write time: above every listing of the generations before it, below every listing of its own. */
    static long forgiveWriteTime(int generation) {
        return writeTime(generation, null, 0);
    }

    /** The slot a newly counted hit takes: an empty one, else the one holding the oldest hit (so the newest 16 stay). */
    private int slotFor() {
        int oldest = 0;
        for (int i = 0; i < SLOTS; i++) {
            if (slotIds[i] == null) {
                return i;
            }
            if (slotAts[i] != null && (slotAts[oldest] == null || slotAts[i].isBefore(slotAts[oldest]))) {
                oldest = i;
            }
        }
        return oldest;
    }

    private boolean inSlots(String id) {
        for (String s : slotIds) {
            if (id.equals(s)) {
                return true;
            }
        }
        return false;
    }

    /** True when every slot holds a hit newer than {@code at}: a hit that old was counted already or is too old to keep. */
    private boolean olderThanEverySlot(Instant at) {
        for (int i = 0; i < SLOTS; i++) {
            if (slotIds[i] == null || slotAts[i] == null || !slotAts[i].isAfter(at)) {
                return false;
            }
        }
        return true;
    }

    /** What adding hits changed. */
    static final class Outcome {
        /** Hits newly counted, by the evidence slot each takes (a later one of the group may take an earlier one's). */
        final java.util.Map<Integer, TrapHit> evidence = new java.util.LinkedHashMap<>();
        /** A listing began (first offence or repeat): announced on the feed. */
        boolean listed;
        /** Hits ignored: made before their node knew of the client's forgive. */
        int forgiven;
    }

    /**
     * Adds hits of this key, oldest first: a hit of a generation below the record's was made before its node knew of the
     * forgive and is ignored; a hit already in a slot (a replay) or older than all 16 kept is not counted again; a
     * counted hit while listed only counts; a counted hit at or after the listing's end starts a listing: a repeat
     * offence ({@code lifetime x 2^n}, capped) when the previous listing ended within the policy's history lifetime.
     */
    Outcome record(List<TrapHit> hits, OffenderPolicy policy) {
        Outcome out = new Outcome();
        if (isForgiven()) {
            firstHit = null; // counting starts again after a forgive
            lastHit = null;
        }
        List<TrapHit> sorted = new ArrayList<>(hits);
        sorted.sort(Comparator.comparing(TrapHit::at).thenComparing(TrapHit::id));
        for (TrapHit h : sorted) {
            if (h.generation() < generation) {
                out.forgiven++;
                continue;
            }
            Instant at = h.at().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
            if (inSlots(h.id()) || olderThanEverySlot(at)) {
                continue; // a replay, or older than the 16 newest (counted when it was among them)
            }
            int slot = slotFor();
            slotIds[slot] = h.id();
            slotAts[slot] = at;
            out.evidence.put(slot, h);
            hitCount = Math.min(MAX_COUNTED, hitCount + 1);
            firstHit = firstHit == null || at.isBefore(firstHit) ? at : firstHit;
            lastHit = lastHit == null || at.isAfter(lastHit) ? at : lastHit;
            // a protocol sensor's listing does not hold a trap hit back: the client becomes a trap offender
            boolean listed = expiresAt != null && at.isBefore(expiresAt) && !isForgiven() && !isProtocol();
            if (!listed) {
                boolean repeat = expiresAt != null && offences > 0 && !isForgiven() && at.isBefore(expiresAt.plus(policy.historyLifetime()));
                // a protocol listing still running that ends later (protocol.lifetime above the trap's) keeps its end: the
                // trap listing's write time must not fall below the listing it replaces
                Instant protocolEnd = isProtocol() && expiresAt.isAfter(at) ? expiresAt : null;
                offences = repeat ? offences + 1 : 1;
                listedAt = at;
                expiresAt = at.plus(policy.lifetimeFor(offences));
                if (protocolEnd != null && protocolEnd.isAfter(expiresAt)) {
                    expiresAt = protocolEnd;
                }
                reason = "trap";
                cause = null;
                trap = h.trap();
                helo = h.helo();
                mailFrom = h.mailFrom();
                node = h.node();
                out.listed = true;
            }
        }
        return out;
    }
}
