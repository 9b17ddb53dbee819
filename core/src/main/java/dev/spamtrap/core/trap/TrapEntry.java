package dev.spamtrap.core.trap;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One trap: an exact address ({@code trap@example.com}), a whole domain ({@code @traps.example.com})
 * or a Postfix-style regular expression ({@code /^spam(master|trap)?@/}). Matching ignores case.
 */
public final class TrapEntry {
    public enum Kind { ADDRESS, DOMAIN, REGEX }

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
        // Postfix regexp tables match case-insensitively unless told otherwise; 'i' is accepted for familiarity.
        if (!flags.isEmpty() && !flags.equals("i")) {
            throw new IllegalArgumentException("'" + text + "': unsupported flags '" + flags + "' (only 'i' is accepted; matching always ignores case)");
        }
        try {
            return new TrapEntry(Kind.REGEX, text, text, Pattern.compile(body, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE));
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("'" + text + "': invalid regular expression: " + e.getDescription() + " near index " + e.getIndex());
        }
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
