package dev.spamtrap.core.blocklist;

import dev.spamtrap.core.config.PropertiesReader;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One list's settings in {@code spamtrap.properties}:
 * <pre>
 * lists = nixspam, uatraps
 * list.nixspam.url = https://www.openbsd.org/spamd/nixspam.gz     # or file:/var/lib/lists/x.txt, or a plain path
 * list.nixspam.message = Your address %A is in the nixspam list
 * list.nixspam.refresh = 1h
 * list.nixspam.action = refuse                                    # refuse | tarpit | observe
 * list.nixspam.timeout = 60s
 * </pre>
 */
public final class BlocklistSettings {
    /** What a list does to a listed client. */
    public enum Action {
        /** Refused at once with the list's text, whatever OffenderConnectHandler's mode. */
        REFUSE,
        /** As OffenderConnectHandler's mode: tarpitted in mode tarpit (the text after the message), refused in mode refuse. */
        TARPIT,
        /** Reported only (event action="observe", spamtrap_would_refuse): let through. */
        OBSERVE;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    static final String LISTS = "lists";
    static final Set<String> FIELDS = Set.of("url", "message", "refresh", "action", "timeout");
    private static final Pattern LIST_KEY = Pattern.compile("list\\.([^.]+)\\.([^.]+)");
    private static final String NAME = "[a-z][a-z0-9_]{0,31}";

    private final String name;
    private final BlocklistSource source;
    private final String message;
    private final Duration refresh;
    private final Action action;

    public BlocklistSettings(String name, BlocklistSource source, String message, Duration refresh, Action action) {
        this.name = name;
        this.source = source;
        this.message = message;
        this.refresh = refresh;
        this.action = action;
    }

    /** Whether {@code key} is one of the list keys ({@code lists}, {@code list.<name>.<field>}); the values are checked by {@link #read}. */
    public static boolean isListKey(String key) {
        if (key.equals(LISTS)) {
            return true;
        }
        Matcher m = LIST_KEY.matcher(key);
        return m.matches() && FIELDS.contains(m.group(2));
    }

    /** The lists named in {@code lists}, in that order; every error names the file, the key and the fix. */
    public static List<BlocklistSettings> read(PropertiesReader r, Set<String> keys) {
        Set<String> names = new LinkedHashSet<>();
        for (String part : r.string(LISTS, "").split(",")) {
            String n = part.trim();
            if (n.isEmpty()) {
                continue;
            }
            if (!n.matches(NAME)) {
                throw r.fail(LISTS, "'" + n + "' is not a list name (lower-case letters, digits and _, starting with a letter, at most 32)");
            }
            if (!names.add(n)) {
                throw r.fail(LISTS, "'" + n + "' is named twice");
            }
        }
        for (String key : keys) {
            Matcher m = LIST_KEY.matcher(key);
            if (m.matches() && !names.contains(m.group(1))) {
                throw r.fail(key, "list '" + m.group(1) + "' is not named in key 'lists' (add it there, or remove this key)");
            }
        }
        Path base = r.source().toAbsolutePath().getParent();
        List<BlocklistSettings> out = new ArrayList<>();
        for (String n : names) {
            String prefix = "list." + n + ".";
            Duration timeout = r.durationIn(prefix + "timeout", "60s", Duration.ofSeconds(1), Duration.ofMinutes(30));
            BlocklistSource source;
            try {
                source = BlocklistSource.of(r.required(prefix + "url"), base, timeout);
            } catch (IllegalArgumentException e) {
                throw r.fail(prefix + "url", e.getMessage());
            }
            String message = r.string(prefix + "message", "Your address %A is in the " + n + " list").replace("\r\n", " ")
                .replace('\n', ' ').replace('\r', ' ').trim();
            if (message.isEmpty()) {
                throw r.fail(prefix + "message", "is empty (e.g. 'Your address %A is in the " + n + " list')");
            }
            for (int i = 0; i < message.length(); i++) {
                char c = message.charAt(i);
                if (c < 0x20 || c > 0x7e) {
                    throw r.fail(prefix + "message", "must be printable ASCII (an SMTP reply): character " + (int) c + " at " + (i + 1));
                }
            }
            Duration refresh = r.durationIn(prefix + "refresh", "1h", Duration.ofSeconds(1), Duration.ofDays(30));
            String a = r.string(prefix + "action", "refuse").toLowerCase(Locale.ROOT);
            Action action;
            switch (a) {
                case "refuse": action = Action.REFUSE; break;
                case "tarpit": action = Action.TARPIT; break;
                case "observe": action = Action.OBSERVE; break;
                default: throw r.fail(prefix + "action", "'" + a + "' is not one of refuse, tarpit, observe");
            }
            out.add(new BlocklistSettings(n, source, message, refresh, action));
        }
        return out;
    }

    public String name() {
        return name;
    }

    public BlocklistSource source() {
        return source;
    }

    /** The refusal text; {@code %A} is the client's address. One line. */
    public String message() {
        return message;
    }

    public Duration refresh() {
        return refresh;
    }

    public Action action() {
        return action;
    }
}
