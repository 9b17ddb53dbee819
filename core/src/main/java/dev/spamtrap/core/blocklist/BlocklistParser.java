package dev.spamtrap.core.blocklist;

import dev.spamtrap.core.net.CidrRange;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Reads a list in the formats OpenBSD's {@code spamd-setup(8)} reads, streamed line by line into an
 * {@link AddressRanges.Builder} (the text is never held whole). One entry per line:
 * <ul>
 * <li>an address: {@code 192.0.2.7}, {@code 2001:db8::7};</li>
 * <li>a prefix: {@code 192.0.2.0/24}, {@code 2001:db8::/48} (host bits set are cleared: {@code 192.0.2.7/24} is
 * {@code 192.0.2.0/24});</li>
 * <li>a range: {@code 192.0.2.10 - 192.0.2.20} (spaces around the dash optional; both ends included, same family, the
 * first not above the last; it need not align to a prefix).</li>
 * </ul>
 * Leading and trailing blanks are ignored; a line that is empty or starts with {@code #} is a comment; after an entry,
 * a blank followed by {@code #} or {@code ;} starts a comment (as in {@code 192.0.2.7  # 210 hits} or Spamhaus DROP's
 * {@code 192.0.2.0/24 ; SBL123}). Names are never resolved.
 *
 * <p>The rule for bad lines: a line that is none of these is skipped, and reported with its line number (the first
 * {@value #REPORTED} in full, then a count). The whole load is refused, and the list in use kept, when more than
 * {@value #MAX_BAD_PERCENT}% of the entry lines are bad (an error page served with 200, a file in another format), or
 * when lines were read but none of them is an entry.
 */
public final class BlocklistParser {
    /** Bad lines reported one by one; further ones are only counted. */
    static final int REPORTED = 10;
    /** Above this share of bad entry lines the load is refused. */
    static final int MAX_BAD_PERCENT = 10;

    private BlocklistParser() {
    }

    /** What a load read: the ranges, and what it skipped. */
    public static final class Result {
        private final AddressRanges ranges;
        private final int entries;
        private final int badLines;
        private final List<String> problems;

        Result(AddressRanges ranges, int entries, int badLines, List<String> problems) {
            this.ranges = ranges;
            this.entries = entries;
            this.badLines = badLines;
            this.problems = Collections.unmodifiableList(problems);
        }

        public AddressRanges ranges() {
            return ranges;
        }

        /** Entry lines read (addresses, prefixes and ranges, before merging). */
        public int entries() {
            return entries;
        }

        /** Lines skipped as no entry. */
        public int badLines() {
            return badLines;
        }

        /** The first bad lines, each as {@code source:line: reason}. */
        public List<String> problems() {
            return problems;
        }
    }

    /** The list could not be used: too many bad lines, or the source failed while being read. */
    public static final class LoadRefused extends Exception {
        public LoadRefused(String message) {
            super(message);
        }
    }

    /** Parses {@code in} (UTF-8 or ASCII text); {@code source} names it in reports. */
    public static Result parse(InputStream in, String source) throws IOException, LoadRefused {
        return parse(new InputStreamReader(in, StandardCharsets.UTF_8), source);
    }

    public static Result parse(Reader in, String source) throws IOException, LoadRefused {
        BufferedReader lines = in instanceof BufferedReader ? (BufferedReader) in : new BufferedReader(in, 64 * 1024);
        AddressRanges.Builder builder = new AddressRanges.Builder();
        List<String> problems = new ArrayList<>();
        int lineNumber = 0;
        int entries = 0;
        int bad = 0;
        for (String line; (line = lines.readLine()) != null; ) {
            lineNumber++;
            String t = entryText(line);
            if (t.isEmpty()) {
                continue;
            }
            String problem = add(t, builder);
            if (problem == null) {
                entries++;
            } else {
                bad++;
                if (problems.size() < REPORTED) {
                    problems.add(source + ":" + lineNumber + ": " + problem);
                }
            }
        }
        if (bad > 0 && (entries == 0 || (long) bad * 100 > (long) (entries + bad) * MAX_BAD_PERCENT)) {
            throw new LoadRefused(source + ": " + bad + " of " + (entries + bad) + " entry lines are not an address, prefix or range"
                + " (more than " + MAX_BAD_PERCENT + "%): not loaded; first: " + (problems.isEmpty() ? "" : problems.get(0)));
        }
        return new Result(builder.build(), entries, bad, problems);
    }

    /** The entry part of a line: blanks trimmed, comments removed; empty for a comment or blank line. */
    static String entryText(String line) {
        int from = 0;
        int to = line.length();
        while (from < to && isBlank(line.charAt(from))) {
            from++;
        }
        if (from == to || line.charAt(from) == '#') {
            return "";
        }
        for (int i = from + 1; i < to; i++) {
            char c = line.charAt(i);
            if ((c == '#' || c == ';') && isBlank(line.charAt(i - 1))) {
                to = i;
                break;
            }
        }
        while (to > from && isBlank(line.charAt(to - 1))) {
            to--;
        }
        return line.substring(from, to);
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\f';
    }

    /** Adds one entry; returns null, or why the text is no entry. */
    static String add(String t, AddressRanges.Builder builder) {
        int slash = t.indexOf('/');
        if (slash >= 0) {
            return addPrefix(t, slash, builder);
        }
        int dash = rangeDash(t);
        if (dash < 0) {
            long v4 = parseV4(t, 0, t.length());
            if (v4 >= 0) {
                // the common line (nixspam is one address a line): no allocation
                builder.addV4((int) v4, (int) v4);
                return null;
            }
        }
        if (dash >= 0) {
            long f4 = parseV4(t, 0, dash);
            long l4 = parseV4(t, dash + 1, t.length());
            if (f4 >= 0 && l4 >= 0) {
                if (f4 > l4) {
                    return "'" + t + "' ends before it starts";
                }
                builder.addV4((int) f4, (int) l4);
                return null;
            }
            String first = t.substring(0, dash).trim();
            String last = t.substring(dash + 1).trim();
            Optional<byte[]> a = literal(first);
            Optional<byte[]> b = literal(last);
            if (a.isEmpty() && b.isEmpty()) {
                return "'" + t + "' is not an address, prefix or range";
            }
            if (a.isEmpty() || b.isEmpty()) {
                return "'" + t + "' is not a range of two addresses (first - last)";
            }
            if (a.get().length != b.get().length) {
                return "'" + t + "' mixes IPv4 and IPv6";
            }
            return addRange(t, a.get(), b.get(), builder);
        }
        Optional<byte[]> a = literal(t);
        if (a.isEmpty()) {
            return "'" + t + "' is not an address, prefix or range";
        }
        return addRange(t, a.get(), a.get(), builder);
    }

    /**
     * The IPv4 address written in {@code t[from, to)} (blanks around it ignored) as an unsigned 32-bit value, or -1 when
     * it is not four dot-separated parts of one to three digits, each at most 255.
     */
    static long parseV4(String t, int from, int to) {
        while (from < to && isBlank(t.charAt(from))) {
            from++;
        }
        while (to > from && isBlank(t.charAt(to - 1))) {
            to--;
        }
        long value = 0;
        int part = 0;
        int digits = 0;
        int octet = 0;
        for (int i = from; i <= to; i++) {
            char c = i == to ? '.' : t.charAt(i);
            if (c == '.') {
                if (digits == 0 || part == 4) {
                    return -1;
                }
                value = (value << 8) | octet;
                part++;
                digits = 0;
                octet = 0;
            } else if (c >= '0' && c <= '9') {
                octet = octet * 10 + (c - '0');
                if (++digits > 3 || octet > 255) {
                    return -1;
                }
            } else {
                return -1;
            }
        }
        return part == 4 ? value : -1;
    }

    /** The dash separating a range (IPv6 addresses have colons, never dashes). */
    private static int rangeDash(String t) {
        return t.indexOf('-');
    }

    private static Optional<byte[]> literal(String text) {
        if (text.isEmpty() || text.indexOf(' ') >= 0 || text.indexOf('\t') >= 0 || text.startsWith("[")) {
            return Optional.empty();
        }
        return CidrRange.literal(text);
    }

    private static String addPrefix(String t, int slash, AddressRanges.Builder builder) {
        Optional<byte[]> a = literal(t.substring(0, slash));
        if (a.isEmpty()) {
            return "'" + t + "' is not a prefix (address/length)";
        }
        String lengthText = t.substring(slash + 1);
        int max = a.get().length * 8;
        int length;
        if (lengthText.isEmpty() || lengthText.length() > 3) {
            return "'" + t + "' has a bad prefix length";
        }
        try {
            length = Integer.parseInt(lengthText);
        } catch (NumberFormatException e) {
            return "'" + t + "' has a bad prefix length";
        }
        if (length < 0 || length > max) {
            return "'" + t + "' has prefix length " + length + ", allowed 0.." + max;
        }
        byte[] first = a.get().clone();
        byte[] last = a.get().clone();
        for (int bit = length; bit < max; bit++) {
            int index = bit / 8;
            int mask = 0x80 >>> (bit % 8);
            first[index] &= (byte) ~mask;
            last[index] |= (byte) mask;
        }
        return addRange(t, first, last, builder);
    }

    private static String addRange(String t, byte[] first, byte[] last, AddressRanges.Builder builder) {
        if (first.length == 4) {
            int f = AddressRanges.toInt(first, 0);
            int l = AddressRanges.toInt(last, 0);
            if (Integer.compareUnsigned(f, l) > 0) {
                return "'" + t + "' ends before it starts";
            }
            builder.addV4(f, l);
            return null;
        }
        long fHi = AddressRanges.toLong(first, 0);
        long fLo = AddressRanges.toLong(first, 8);
        long lHi = AddressRanges.toLong(last, 0);
        long lLo = AddressRanges.toLong(last, 8);
        if (AddressRanges.compare(fHi, fLo, lHi, lLo) > 0) {
            return "'" + t + "' ends before it starts";
        }
        builder.addV6(fHi, fLo, lHi, lLo);
        return null;
    }
}
