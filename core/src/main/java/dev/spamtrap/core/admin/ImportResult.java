package dev.spamtrap.core.admin;

import java.util.List;

/** What a bulk trap import did: entries added, entries already present, and the lines refused with why. */
public final class ImportResult {
    private final int added;
    private final int alreadyPresent;
    private final List<String> refused;

    public ImportResult(int added, int alreadyPresent, List<String> refused) {
        this.added = added;
        this.alreadyPresent = alreadyPresent;
        this.refused = List.copyOf(refused);
    }

    public int added() { return added; }
    public int alreadyPresent() { return alreadyPresent; }
    /** One message per refused line, naming the line and the reason. */
    public List<String> refused() { return refused; }
}
