package dev.spamtrap.core.config;

import dev.spamtrap.core.blocklist.BlocklistSettings;
import dev.spamtrap.core.blocklist.BlocklistSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The loaded lists' keys of {@code spamtrap.properties}: {@code lists} and {@code list.<name>.<field>}. */
final class BlocklistKeys {
    static final String LISTS = "lists";
    static final Set<String> FIELDS = Set.of("url", "message", "refresh", "action", "timeout");
    private static final Pattern LIST_KEY = Pattern.compile("list\\.([^.]+)\\.([^.]+)");
    private static final String NAME = "[a-z][a-z0-9_]{0,31}";

    private BlocklistKeys() {
    }

    /** Whether {@code key} is one of the list keys ({@code lists}, {@code list.<name>.<field>}); the values are checked by {@link #read}. */
    static boolean isListKey(String key) {
        if (key.equals(LISTS)) {
            return true;
        }
        Matcher m = LIST_KEY.matcher(key);
        return m.matches() && FIELDS.contains(m.group(2));
    }

    /** The lists named in {@code lists}, in that order; every error names the file, the key and the fix. */
    static List<BlocklistSettings> read(PropertiesReader r, Set<String> keys) {
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
            BlocklistSettings.Action action;
            switch (a) {
                case "refuse": action = BlocklistSettings.Action.REFUSE; break;
                case "tarpit": action = BlocklistSettings.Action.TARPIT; break;
                case "observe": action = BlocklistSettings.Action.OBSERVE; break;
                default: throw r.fail(prefix + "action", "'" + a + "' is not one of refuse, tarpit, observe");
            }
            out.add(new BlocklistSettings(n, source, message, refresh, action));
        }
        return out;
    }
}
