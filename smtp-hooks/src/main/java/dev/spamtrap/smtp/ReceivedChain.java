package dev.spamtrap.smtp;

import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.net.CidrRange;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the client a trusted relay received a message from, as Rspamd's external_relay or spamd's -M do: walking
 * the {@code Received:} headers from the top (the newest, ours first), every hop whose sending address is a trusted
 * relay (or the address that handed us the message) is skipped; the first other sending address is the client.
 *
 * <p>The sending address is read from the structure each MTA writes around the client's HELO, never from a name and
 * never from the HELO itself:
 * <table>
 * <caption>from clauses</caption>
 * <tr><td>James 3.8</td><td>{@code from HOST (EHLO HELO) ([ADDR])}, {@code from HOST ([ADDR])}</td></tr>
 * <tr><td>Postfix, Sendmail</td><td>{@code from HELO (NAME [ADDR])}, {@code from HELO (ident@NAME [ADDR])},
 * {@code from HELO (NAME [ADDR] (may be forged))}, {@code from HELO ([ADDR])}, {@code [IPv6:...]}, {@code [ADDR]:port}</td></tr>
 * <tr><td>Exim</td><td>{@code from NAME ([ADDR]:port helo=HELO ident=ID)}, {@code from [ADDR] (port=P helo=HELO)},
 * {@code from [ADDR]}</td></tr>
 * <tr><td>Exchange</td><td>{@code from HELO (ADDR) by HOST (ADDR) with Microsoft SMTP Server ...} (address without brackets)</td></tr>
 * </table>
 * The first word after {@code from} is the only place a HELO can stand (Postfix, Sendmail, Exchange and James write
 * it there; Exim writes it as {@code helo=} after the address). A HELO with spaces (which Postfix rewrites and Exim
 * refuses) cannot shift the structure unnoticed: the clause must be followed by {@code by}, and if another
 * from-clause-shaped address group (one not naming a trusted relay) appears later in the header, outside {@code <...>}
 * addresses, the header is ambiguous and unreadable. An unreadable header records nobody: a false positive is worse
 * than a missed spammer.
 */
final class ReceivedChain {
    private static final String ADDR = "([0-9A-Fa-f:.]{2,45})";
    private static final String PORT = "(?::\\d{1,5})?";
    /** from HELO (NAME [ADDR]) / (ident@NAME [ADDR]) / ([ADDR]) / (NAME [ADDR] (may be forged)): Postfix, Sendmail, James; Exim with a name. */
    private static final Pattern BRACKETED = Pattern.compile(
        "^from (\\S+) \\((?:(\\S+) )?\\[(?:IPv6:)?" + ADDR + "\\]" + PORT + "((?: (?:helo|ident)=\\S+?)*)(?: \\(may be forged\\))?\\)(?: |$)",
        Pattern.CASE_INSENSITIVE);
    /** from [ADDR] (port=P helo=HELO ident=ID) or from [ADDR]: Exim without a verified name. */
    private static final Pattern EXIM_LITERAL = Pattern.compile(
        "^from \\[(?:IPv6:)?" + ADDR + "\\]" + PORT + "(?: \\(((?:port=\\d+ ?)?(?:helo=\\S+? ?)?(?:ident=\\S+?)?)\\))?(?: |$)",
        Pattern.CASE_INSENSITIVE);
    /** from HOST (EHLO HELO) ([ADDR]): James 3.8 (HOST is the client's name, or its address). */
    private static final Pattern JAMES = Pattern.compile(
        "^from (\\S+) \\((?:HELO|EHLO) (.*?)\\) \\(\\[(?:IPv6:)?" + ADDR + "\\]\\)(?: |$)", Pattern.CASE_INSENSITIVE);
    /** from HELO (ADDR): Exchange. */
    private static final Pattern EXCHANGE = Pattern.compile("^from (\\S+) \\(" + ADDR + "\\)(?: |$)", Pattern.CASE_INSENSITIVE);
    /** What may stand between the from clause and "by": Postfix's TLS comment, Sendmail's/Exim's authentication comment. */
    private static final Pattern BEFORE_BY = Pattern.compile("^(?:\\((?:using|authenticated)(?:[^()]|\\([^()]*\\))*\\) )*by ",
        Pattern.CASE_INSENSITIVE);
    /** A later group shaped like a from clause's address: "(NAME [ADDR]", "([ADDR]", "[ADDR] (helo=". */
    private static final Pattern FROM_SHAPED = Pattern.compile(
        "\\((?:\\S+ )?\\[(?:IPv6:)?" + ADDR + "\\]|\\[(?:IPv6:)?" + ADDR + "\\]" + PORT + " \\((?:port|helo|ident)=", Pattern.CASE_INSENSITIVE);
    private static final Pattern BARE_IN_PARENS = Pattern.compile("\\(" + ADDR + "\\)");
    private static final Pattern HELO_FIELD = Pattern.compile("helo=(\\S+?)(?: |\\)|$)", Pattern.CASE_INSENSITIVE);
    private static final Pattern ANGLE = Pattern.compile("<[^<>]*>");

    /** The outcome: the client and its HELO, or why the chain could not be read. */
    static final class Origin {
        final InetAddress client;
        final String helo;
        final String problem;

        private Origin(InetAddress client, String helo, String problem) {
            this.client = client;
            this.helo = helo;
            this.problem = problem;
        }

        Optional<InetAddress> client() {
            return Optional.ofNullable(client);
        }
    }

    /** One header's sending address and the HELO it gave, or why it cannot be read. */
    static final class Hop {
        final InetAddress sender;
        final String helo;
        final String problem;

        Hop(InetAddress sender, String helo, String problem) {
            this.sender = sender;
            this.helo = helo;
            this.problem = problem;
        }
    }

    private ReceivedChain() {
    }

    /**
     * @param received the {@code Received:} header values, topmost first
     * @param receivedFrom the address that handed us the message (a trusted relay)
     */
    static Origin originOf(String[] received, InetAddress receivedFrom, Allowlist trustedRelays) {
        if (received == null || received.length == 0) {
            return new Origin(null, null, "no Received: header");
        }
        for (String raw : received) {
            Hop hop = parse(raw, a -> a.equals(receivedFrom) || trustedRelays.contains(a));
            if (hop.sender == null) {
                return new Origin(null, null, hop.problem);
            }
            if (hop.sender.equals(receivedFrom) || trustedRelays.contains(hop.sender)) {
                continue;
            }
            return new Origin(hop.sender, hop.helo, null);
        }
        return new Origin(null, null, "every Received: header names a trusted relay");
    }

    /** Reads one header; {@code relay} tells addresses that may appear anywhere without making it ambiguous. */
    static Hop parse(String raw, java.util.function.Predicate<InetAddress> relay) {
        String header = raw.replaceAll("\\s+", " ").trim();
        if (!header.regionMatches(true, 0, "from ", 0, 5)) {
            return unreadable("Received: header without a from clause", header);
        }
        Matcher m = JAMES.matcher(header);
        InetAddress sender;
        String helo;
        int end;
        boolean exchange = false;
        // James first: its "(EHLO [1.2.3.4])" would otherwise read as Postfix's "(NAME [ADDR])"
        if (m.find()) {
            sender = address(m.group(3));
            helo = m.group(2);
            end = m.end();
        } else if ((m = BRACKETED.matcher(header)).find()) {
            sender = address(m.group(3));
            String heloField = field(m.group(4));
            // Exim writes "from NAME ([ADDR] helo=HELO)", the others "from HELO (NAME [ADDR])"
            helo = heloField != null ? heloField : m.group(1);
            end = m.end();
        } else if ((m = EXIM_LITERAL.matcher(header)).find()) {
            sender = address(m.group(1));
            String heloField = m.group(2) == null ? null : field(m.group(2));
            helo = heloField != null ? heloField : "";
            end = m.end();
        } else if ((m = EXCHANGE.matcher(header)).find()) {
            sender = address(m.group(2));
            helo = m.group(1);
            end = m.end();
            exchange = true;
        } else {
            return unreadable("Received: header in no known format", header);
        }
        if (sender == null) {
            return unreadable("Received: header without a valid sending address", header);
        }
        String tail = header.substring(end).trim();
        if (!tail.isEmpty() && !BEFORE_BY.matcher(tail).find()) {
            return unreadable("Received: from clause not followed by 'by'", header);
        }
        String outsideAddresses = ANGLE.matcher(tail).replaceAll("<>");
        Matcher later = FROM_SHAPED.matcher(outsideAddresses);
        while (later.find()) {
            InetAddress other = address(later.group(1) != null ? later.group(1) : later.group(2));
            if (other != null && !other.equals(sender) && !relay.test(other)) {
                return unreadable("Received: header names two clients (a HELO imitating a header?)", header);
            }
        }
        if (exchange) {
            // Exchange's by clause carries its own address in parentheses, once; a second one was written by the client
            int bare = 0;
            Matcher b = BARE_IN_PARENS.matcher(outsideAddresses);
            while (b.find()) {
                bare += address(b.group(1)) != null ? 1 : 0;
            }
            if (bare > 1) {
                return unreadable("Received: header names two clients (a HELO imitating a header?)", header);
            }
        }
        return new Hop(sender, helo, null);
    }

    private static String field(String fields) {
        if (fields == null) {
            return null;
        }
        Matcher h = HELO_FIELD.matcher(fields);
        return h.find() ? h.group(1) : null;
    }

    private static Hop unreadable(String why, String header) {
        return new Hop(null, null, why + ": '" + shorten(header) + "'");
    }

    private static InetAddress address(String literal) {
        if (literal == null) {
            return null;
        }
        Optional<byte[]> raw = CidrRange.literal(literal);
        if (raw.isEmpty()) {
            return null;
        }
        try {
            return InetAddress.getByAddress(raw.get());
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static String shorten(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }
}
