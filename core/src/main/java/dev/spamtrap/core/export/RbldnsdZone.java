package dev.spamtrap.core.export;

import dev.spamtrap.core.admin.OffenderSummary;
import dev.spamtrap.core.offender.Cause;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * The offender list as an rbldnsd {@code combined} data file: an {@code ip4set} for IPv4 addresses and
 * prefixes and an {@code ip6trie} for IPv6 prefixes (a /64 by default). Each entry answers by its cause:
 *
 * <table>
 * <tr><th>answer</th><th>cause</th></tr>
 * <tr><td>{@code 127.0.0.2}</td><td>a trap hit (first offence)</td></tr>
 * <tr><td>{@code 127.0.0.3}</td><td>a repeat offence (a trap hit after an earlier listing ended)</td></tr>
 * <tr><td>{@code 127.0.0.4}</td><td>prefix escalation (many trapping addresses in one prefix)</td></tr>
 * <tr><td>{@code 127.0.0.5}</td><td>listed by hand (WebAdmin)</td></tr>
 * <tr><td>{@code 127.0.0.6}</td><td>a protocol sensor (only when the export is asked for the protocol class)</td></tr>
 * </table>
 * with a TXT that names the queried address ({@code $}, as spamd's {@code %A}) and the entry's expiry. Load it with
 * {@code rbldnsd ... bl.example.org:combined:spamtrap.zone}. Observed listings are never in it; the caller leaves out
 * the protocol class unless asked.
 */
public final class RbldnsdZone {
    public static final String DEFAULT_MESSAGE = "Your address $ has sent mail to a spamtrap";
    static final String ANSWER = "127.0.0.2";

    private RbldnsdZone() {
    }

    /** The A record an entry of this cause answers. */
    public static String answer(Cause cause) {
        switch (cause.kind()) {
            case REPEAT:
                return "127.0.0.3";
            case PREFIX:
                return "127.0.0.4";
            case MANUAL:
                return "127.0.0.5";
            case PROTOCOL:
                return "127.0.0.6";
            default:
                return ANSWER;
        }
    }

    public static String render(List<OffenderSummary> offenders, Instant generatedAt, String message) {
        String text = clean(message);
        StringBuilder v4 = new StringBuilder();
        StringBuilder v6 = new StringBuilder();
        int n = 0;
        for (OffenderSummary o : offenders) {
            if (o.cause().isObserved()) {
                continue;
            }
            n++;
            String line = o.key() + " :" + answer(o.cause()) + ":" + text + "; listed until " + o.expiresAt().truncatedTo(ChronoUnit.SECONDS) + "\n";
            (o.key().contains(":") ? v6 : v4).append(line);
        }
        StringBuilder zone = new StringBuilder();
        zone.append("# spamtrap offenders, generated ").append(generatedAt.truncatedTo(ChronoUnit.SECONDS))
            .append(", ").append(n).append(" entries\n");
        zone.append("# answers: 127.0.0.2 trap, 127.0.0.3 repeat offender, 127.0.0.4 prefix escalation, 127.0.0.5 listed by hand,"
            + " 127.0.0.6 protocol sensor\n");
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
