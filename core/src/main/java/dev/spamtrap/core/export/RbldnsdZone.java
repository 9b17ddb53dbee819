package dev.spamtrap.core.export;

import dev.spamtrap.core.admin.OffenderSummary;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * The offender list as an rbldnsd {@code combined} data file: an {@code ip4set} for IPv4 addresses and
 * prefixes and an {@code ip6trie} for IPv6 prefixes (a /64 by default). Every listed entry answers
 * {@code 127.0.0.2}, with a TXT that names the queried address ({@code $}, as spamd's {@code %A}) and
 * the entry's expiry. Load it with {@code rbldnsd ... bl.example.org:combined:spamtrap.zone}.
 */
public final class RbldnsdZone {
    public static final String DEFAULT_MESSAGE = "Your address $ has sent mail to a spamtrap";
    static final String ANSWER = "127.0.0.2";

    private RbldnsdZone() {
    }

    public static String render(List<OffenderSummary> offenders, Instant generatedAt, String message) {
        String text = clean(message);
        StringBuilder v4 = new StringBuilder();
        StringBuilder v6 = new StringBuilder();
        for (OffenderSummary o : offenders) {
            String line = o.key() + " :" + ANSWER + ":" + text + "; listed until " + o.expiresAt().truncatedTo(ChronoUnit.SECONDS) + "\n";
            (o.key().contains(":") ? v6 : v4).append(line);
        }
        StringBuilder zone = new StringBuilder();
        zone.append("# spamtrap offenders, generated ").append(generatedAt.truncatedTo(ChronoUnit.SECONDS))
            .append(", ").append(offenders.size()).append(" entries\n");
        zone.append("$DATASET ip4set @\n:").append(ANSWER).append(':').append(text).append('\n').append(v4);
        zone.append("$DATASET ip6trie @\n:").append(ANSWER).append(':').append(text).append('\n').append(v6);
        return zone.toString();
    }

    /** A TXT is one line; a stray ':' or '#' at the start would be read as rbldnsd syntax. */
    private static String clean(String message) {
        String m = message.replaceAll("[\\r\\n]+", " ").trim();
        return m.isEmpty() ? DEFAULT_MESSAGE : m;
    }
}
