package dev.spamtrap.core.trap;

import java.util.Locale;
import java.util.Objects;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;

/**
 * One trap: an exact address ({@code trap@example.com}), a whole domain ({@code @traps.example.com})
 * or a Postfix-style regular expression ({@code /^spam(master|trap)?@/}). Matching ignores case unless a
 * regex's {@code i} flag turns case sensitivity on, as in Postfix.
 *
 * <p>Regexes are compiled by RE2/J, which matches in time linear in the address whatever the pattern: a
 * hostile 8 KB RCPT cannot stall the event loop. Constructs RE2 cannot do in linear time (back-references,
 * look-around, possessive quantifiers) are refused with the engine's reason.
 */
public final class TrapEntry {
    public enum Kind { ADDRESS, DOMAIN, PATTERN }

    private final Kind kind;
    private final String text;
    private final String key;
    private final Pattern pattern;

    private TrapEntry(Kind kind, String text, String key, Pattern pattern) {
        this.kind = kind;
        this.text = text;
        this.key = key;
        this.pattern = pattern;
    }

    /**
     * @throws IllegalArgumentException with a reason fit for an administrator
     */
    public static TrapEntry parse(String raw) {
        String text = raw.trim();
        if (text.isEmpty()) {
            throw new IllegalArgumentException("empty trap entry");
        }
        if (text.startsWith("/")) {
            return regex(text);
        }
        if (text.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("'" + text + "' contains white space");
        }
        if (text.startsWith("@")) {
            String domain = text.substring(1).toLowerCase(Locale.ROOT);
            checkDomain(text, domain);
            return new TrapEntry(Kind.DOMAIN, text, domain, null);
        }
        int at = text.lastIndexOf('@');
        if (at <= 0 || at == text.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' is neither an address (user@domain), a domain (@domain) nor a /regex/");
        }
        if (text.indexOf('@') != at) {
            throw new IllegalArgumentException("'" + text + "' has more than one '@'");
        }
        checkDomain(text, text.substring(at + 1));
        return new TrapEntry(Kind.ADDRESS, text, text.toLowerCase(Locale.ROOT), null);
    }

    private static void checkDomain(String text, String domain) {
        if (domain.isEmpty() || domain.startsWith(".") || domain.endsWith(".") || domain.contains("..")
            || !domain.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-' || c == '.' || c == '[' || c == ']' || c == ':')) {
            throw new IllegalArgumentException("'" + text + "' has an invalid domain '" + domain + "'");
        }
    }

    private static TrapEntry regex(String text) {
        int close = text.lastIndexOf('/');
        if (close == 0) {
            throw new IllegalArgumentException("'" + text + "': regular expression has no closing '/'");
        }
        String body = text.substring(1, close);
        String flags = text.substring(close + 1);
        if (body.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "': empty regular expression");
        }
        try {
            return new TrapEntry(Kind.PATTERN, text, text, Pattern.compile(body, postfixFlags(text, flags)));
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("'" + text + "': invalid regular expression: " + e.getDescription()
                + (e.getPattern().isEmpty() ? "" : " in '" + e.getPattern() + "'"));
        }
    }

    /**
     * Postfix regexp_table(5) flags, each a toggle of a default: {@code i} case sensitivity (default:
     * ignore case), {@code m} multi-line mode (default off). {@code s} (pcre_table: dot matches newline)
     * is accepted too. {@code x} cannot be honoured by RE2 and is refused rather than silently ignored.
     */
    static int postfixFlags(String text, String flags) {
        boolean ignoreCase = true;
        boolean multiLine = false;
        boolean dotAll = false;
        for (char f : flags.toCharArray()) {
            switch (f) {
                case 'i': ignoreCase = !ignoreCase; break;
                case 'm': multiLine = !multiLine; break;
                case 's': dotAll = !dotAll; break;
                default:
                    throw new IllegalArgumentException("'" + text + "': unsupported flag '" + f
                        + "' (accepted: i toggles case sensitivity, m multi-line, s dot matches newline)");
            }
        }
        return (ignoreCase ? Pattern.CASE_INSENSITIVE : 0) | (multiLine ? Pattern.MULTILINE : 0) | (dotAll ? Pattern.DOTALL : 0);
    }

    public Kind kind() {
        return kind;
    }

    /** The entry as the administrator wrote it. */
    public String text() {
        return text;
    }

    /** Lower-cased address or domain for exact lookups; the text itself for regexes. */
    String key() {
        return key;
    }

    boolean matchesRegex(String address) {
        return pattern.matcher(address).find();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrapEntry && ((TrapEntry) o).kind == kind && ((TrapEntry) o).key.equals(key);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, key);
    }

    @Override
    public String toString() {
        return text;
    }
}
