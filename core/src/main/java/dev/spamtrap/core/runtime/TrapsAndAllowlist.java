package dev.spamtrap.core.runtime;

import dev.spamtrap.core.config.ListFiles;
import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.trap.TrapEntry;
import dev.spamtrap.core.trap.TrapList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The node's trap list and allowlist, each the merge of a file part and a store part. Readers see
 * immutable snapshots (volatile fields); the file reloader and the sync thread replace one part each.
 */
final class TrapsAndAllowlist implements SpoolReplay.Allowlisted {
    private static final Logger LOGGER = LoggerFactory.getLogger(TrapsAndAllowlist.class);

    private volatile TrapList fileTraps;
    private volatile TrapList storeTraps = TrapList.EMPTY;
    private volatile TrapList traps;
    private volatile Allowlist fileAllowlist;
    private volatile Allowlist storeAllowlist = Allowlist.EMPTY;
    private volatile Allowlist allowlist;
    private volatile boolean storeAllowlistRead;

    /** The lists as the files name them ({@code traps.file}, {@code allowlist.file}); a bad line fails at once. */
    static TrapsAndAllowlist fromFiles(SpamtrapConfig config) {
        return new TrapsAndAllowlist(config.trapsFile().map(ListFiles::traps).orElse(TrapList.EMPTY),
            config.allowlistFile().map(ListFiles::allowlist).orElse(Allowlist.EMPTY));
    }

    TrapsAndAllowlist(TrapList fileTraps, Allowlist fileAllowlist) {
        this.fileTraps = fileTraps;
        this.fileAllowlist = fileAllowlist;
        this.traps = fileTraps;
        this.allowlist = fileAllowlist;
    }

    TrapList traps() { return traps; }
    Allowlist allowlist() { return allowlist; }
    TrapList fileTraps() { return fileTraps; }
    TrapList storeTraps() { return storeTraps; }
    Allowlist fileAllowlist() { return fileAllowlist; }

    synchronized void fileTraps(TrapList t) {
        fileTraps = t;
        traps = TrapList.merge(fileTraps, storeTraps);
    }

    synchronized void fileAllowlist(Allowlist a) {
        fileAllowlist = a;
        allowlist = Allowlist.merge(fileAllowlist, storeAllowlist);
    }

    /** Store trap rows; bad ones are skipped with an error line. */
    synchronized void storeTraps(List<String> raw) {
        List<TrapEntry> entries = new ArrayList<>();
        for (String r : raw) {
            try {
                entries.add(TrapEntry.parse(r));
            } catch (IllegalArgumentException e) {
                LOGGER.error("Cassandra table traps: entry skipped: {}", e.getMessage());
            }
        }
        storeTraps = new TrapList(entries);
        traps = TrapList.merge(fileTraps, storeTraps);
    }

    /** Store allowlist rows; bad ones are skipped with an error line. */
    synchronized void storeAllowlist(List<String> raw) {
        List<CidrRange> ranges = new ArrayList<>();
        for (String r : raw) {
            try {
                ranges.add(CidrRange.parse(r));
            } catch (IllegalArgumentException e) {
                LOGGER.error("Cassandra table allowlist: entry skipped: {}", e.getMessage());
            }
        }
        storeAllowlist = new Allowlist(ranges);
        allowlist = Allowlist.merge(fileAllowlist, storeAllowlist);
        storeAllowlistRead = true;
    }

    /** Whether the store's allowlist table has been read at least once (until then the spool is not replayed). */
    @Override
    public boolean known() {
        return storeAllowlistRead;
    }

    /** Whether an offender key (an address or prefix) shares an address with an allowlisted range; false for no key. */
    @Override
    public boolean covers(String key) {
        try {
            return overlapsAllowlist(CidrRange.parse(key));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether a range overlaps any allowlisted range (prefix escalation must never cover one). */
    boolean overlapsAllowlist(CidrRange range) {
        return overlaps(allowlist, range);
    }

    /** Whether {@code range} contains, or lies inside, one of the list's ranges. */
    static boolean overlaps(Allowlist list, CidrRange range) {
        for (CidrRange a : list.ranges()) {
            if (a.overlaps(range)) {
                return true;
            }
        }
        return false;
    }
}
