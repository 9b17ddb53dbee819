package dev.spamtrap.core.trap;

import dev.spamtrap.core.config.ConfigException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a trap file: one entry per line, blank lines and {@code #} comments ignored.
 * A bad entry fails with {@code file:line: reason}.
 */
public final class TrapListParser {
    private TrapListParser() {
    }

    public static TrapList parse(Path file) {
        try {
            return parse(file.toString(), Files.readAllLines(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read trap list: " + e.getMessage(), e);
        }
    }

    public static TrapList parse(String source, List<String> lines) {
        List<TrapEntry> entries = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = stripComment(lines.get(i));
            if (line.isEmpty()) {
                continue;
            }
            try {
                entries.add(TrapEntry.parse(line));
            } catch (IllegalArgumentException e) {
                throw ConfigException.atLine(source, i + 1, e.getMessage());
            }
        }
        return new TrapList(entries);
    }

    static String stripComment(String line) {
        String t = line.trim();
        // A '#' inside a /regex/ is part of the pattern, so only whole-line comments count there.
        if (t.startsWith("#")) {
            return "";
        }
        if (!t.startsWith("/")) {
            int hash = t.indexOf(" #");
            if (hash >= 0) {
                t = t.substring(0, hash).trim();
            }
        }
        return t;
    }
}
