package dev.spamtrap.it.admin;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads one series from James's {@code GET /metrics} Prometheus text. */
public final class Scrape {
    private final String text;

    public Scrape(String text) {
        this.text = text;
    }

    /** The value of a series without labels; NaN when absent (the test then names it). */
    public double value(String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? ([-+0-9.eE]+|NaN)$").matcher(text);
        return m.find() ? Double.parseDouble(m.group(2)) : Double.NaN;
    }

    /** A counter: Prometheus text names it {@code <name>_total}. */
    public double counter(String name) {
        double v = value(name + "_total");
        return Double.isNaN(v) ? value(name) : v;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (String line : text.split("\n")) {
            if (line.startsWith("spamtrap_")) {
                sb.append(line).append('\n');
            }
        }
        return sb.toString();
    }
}
