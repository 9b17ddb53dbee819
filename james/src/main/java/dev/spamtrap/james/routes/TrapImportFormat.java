package dev.spamtrap.james.routes;

import java.util.ArrayList;
import java.util.List;

/**
 * Bulk trap lists: one entry per line ({@code #} comments and blank lines ignored), or the output of
 * OpenBSD {@code spamdb} (its {@code SPAMTRAP|address} lines are taken; {@code WHITE|}, {@code GREY|} and
 * {@code TRAPPED|} lines are counted as skipped).
 */
final class TrapImportFormat {
    private TrapImportFormat() {
    }

    static final class Parsed {
        private final List<String> entries;
        private final int skipped;

        Parsed(List<String> entries, int skipped) {
            this.entries = entries;
            this.skipped = skipped;
        }

        List<String> entries() { return entries; }
        int skipped() { return skipped; }
    }

    static Parsed parse(String body) {
        List<String> entries = new ArrayList<>();
        int skipped = 0;
        if (body == null) {
            return new Parsed(entries, 0);
        }
        for (String raw : body.split("\\r?\\n")) {
            String line = raw.trim();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int bar = line.indexOf('|');
            if (bar > 0 && line.substring(0, bar).chars().allMatch(Character::isUpperCase)) {
                if (line.startsWith("SPAMTRAP|")) {
                    String address = line.substring(bar + 1).trim();
                    int next = address.indexOf('|');
                    address = next >= 0 ? address.substring(0, next) : address;
                    // spamdb keeps trap addresses as "<address>"
                    if (address.startsWith("<") && address.endsWith(">")) {
                        address = address.substring(1, address.length() - 1);
                    }
                    entries.add(address);
                } else {
                    skipped++;
                }
                continue;
            }
            entries.add(line);
        }
        return new Parsed(entries, skipped);
    }
}
