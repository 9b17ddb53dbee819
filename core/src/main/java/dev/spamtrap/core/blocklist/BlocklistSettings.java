package dev.spamtrap.core.blocklist;

import java.time.Duration;
import java.util.Locale;

/**
 * One list's settings in {@code spamtrap.properties} (read by {@code config.BlocklistKeys}):
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
