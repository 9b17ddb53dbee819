package dev.spamtrap.core.config;

import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.trap.TrapEntry;
import dev.spamtrap.core.trap.TrapList;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The administrator's list files, {@code traps.txt} and {@code allowlist.txt}: one entry per line, blank lines and
 * {@code #} comments ignored. A bad entry fails the whole file with {@code file:line: reason}, so a reload keeps the
 * previous list rather than a part of the new one.
 */
public final class ListFiles {
    private ListFiles() {
    }

    public static TrapList traps(Path file) {
        return traps(file.toString(), read(file, "trap list"));
    }

    public static TrapList traps(String source, List<String> lines) {
        return new TrapList(entries(source, lines, ListFiles::stripTrapComment, TrapEntry::parse));
    }

    public static Allowlist allowlist(Path file) {
        return allowlist(file.toString(), read(file, "allowlist"));
    }

    public static Allowlist allowlist(String source, List<String> lines) {
        return new Allowlist(entries(source, lines, ListFiles::stripComment, CidrRange::parse));
    }

    private static List<String> read(Path file, String what) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read " + what + ": " + e.getMessage(), e);
        }
    }

    private static <T> List<T> entries(String source, List<String> lines, Function<String, String> strip, Function<String, T> parse) {
        List<T> entries = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = strip.apply(lines.get(i));
            if (line.isEmpty()) {
                continue;
            }
            try {
                entries.add(parse.apply(line));
            } catch (IllegalArgumentException e) {
                throw ConfigException.atLine(source, i + 1, e.getMessage());
            }
        }
        return entries;
    }

    private static String stripComment(String line) {
        int hash = line.indexOf('#');
        return (hash >= 0 ? line.substring(0, hash) : line).trim();
    }

    /** A '#' inside a /regex/ is part of the pattern, so only whole-line comments count there. */
    private static String stripTrapComment(String line) {
        String t = line.trim();
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
