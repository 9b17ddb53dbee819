package dev.spamtrap.smtp;

import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.net.CidrRange;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the client a trusted relay received a message from, as Rspamd's external_relay or spamd's -M do:
 * walking the {@code Received:} headers from the top (the newest, ours first), every hop whose sending
 * address is a trusted relay (or our own) is skipped; the first other sending address is the client. Only the
 * bracketed address literal of the {@code from} clause is believed, never a name; a header without one, or a
 * chain that runs out, is unreadable.
 */
final class ReceivedChain {
    /** The address literal in a from clause: "[192.0.2.1]" or "[IPv6:2001:db8::1]". Bounded, no backtracking risk. */
    private static final Pattern LITERAL = Pattern.compile("\\[(?:IPv6:)?([0-9A-Fa-f:.]{2,45})\\]");
    private static final Pattern BY = Pattern.compile("\\sby\\s", Pattern.CASE_INSENSITIVE);

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
            String header = raw.replaceAll("\\s+", " ").trim();
            if (!header.toLowerCase(Locale.ROOT).startsWith("from ")) {
                return new Origin(null, null, "Received: header without a from clause: '" + shorten(header) + "'");
            }
            Matcher by = BY.matcher(header);
            String from = by.find() ? header.substring(0, by.start()) : header;
            InetAddress sender = lastLiteral(from);
            if (sender == null) {
                return new Origin(null, null, "Received: header without a sending address: '" + shorten(header) + "'");
            }
            if (sender.equals(receivedFrom) || trustedRelays.contains(sender)) {
                continue;
            }
            String[] words = from.split(" ");
            return new Origin(sender, words.length > 1 ? words[1] : "", null);
        }
        return new Origin(null, null, "every Received: header names a trusted relay");
    }

    private static InetAddress lastLiteral(String from) {
        Matcher m = LITERAL.matcher(from);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        if (last == null) {
            return null;
        }
        Optional<byte[]> raw = CidrRange.literal(last);
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
