package dev.spamtrap.core.config;

import java.time.Duration;
import java.util.Locale;

/** Parses the durations administrators write: {@code 500ms}, {@code 30s}, {@code 15m}, {@code 24h}, {@code 7d}; a bare number is seconds. */
public final class Durations {
    private Durations() {
    }

    public static Duration parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.isEmpty()) {
            throw new IllegalArgumentException("empty duration");
        }
        String unit;
        String number;
        if (t.endsWith("ms")) {
            unit = "ms";
            number = t.substring(0, t.length() - 2);
        } else if (Character.isLetter(t.charAt(t.length() - 1))) {
            unit = t.substring(t.length() - 1);
            number = t.substring(0, t.length() - 1);
        } else {
            unit = "s";
            number = t;
        }
        long n;
        try {
            n = Long.parseLong(number.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (use e.g. 30s, 15m, 24h, 7d)");
        }
        if (n < 0) {
            throw new IllegalArgumentException("'" + text + "' is negative");
        }
        switch (unit) {
            case "ms": return Duration.ofMillis(n);
            case "s": return Duration.ofSeconds(n);
            case "m": return Duration.ofMinutes(n);
            case "h": return Duration.ofHours(n);
            case "d": return Duration.ofDays(n);
            default: throw new IllegalArgumentException("'" + text + "' has unknown unit '" + unit + "' (use ms, s, m, h or d)");
        }
    }

    /** Formats as the largest whole unit, for log lines and replies ("24 hours", "7 days"; a single day reads as 24 hours, as spamd says it). */
    public static String human(Duration d) {
        long s = d.getSeconds();
        if (s % 86400 == 0 && s >= 2 * 86400) {
            return plural(s / 86400, "day");
        }
        if (s % 3600 == 0 && s >= 3600) {
            return plural(s / 3600, "hour");
        }
        if (s % 60 == 0 && s >= 60) {
            return plural(s / 60, "minute");
        }
        return plural(s, "second");
    }

    private static String plural(long n, String unit) {
        return n + " " + unit + (n == 1 ? "" : "s");
    }
}
