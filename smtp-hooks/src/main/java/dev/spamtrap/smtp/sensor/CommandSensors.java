package dev.spamtrap.smtp.sensor;

import java.util.Set;

/**
 * Non-SMTP commands: what an open-proxy probe or a client that ignores refusals sends as an SMTP command. James hands
 * every unknown command's name (the text before the first space, upper-cased) to its unknown-command hooks; this says
 * which sensor, if any, such a name trips.
 */
public final class CommandSensors {
    public static final String HTTP = "http";
    public static final String HEADER = "header";

    /** HTTP request methods an open-proxy probe or a web client sends first. */
    static final Set<String> HTTP_VERBS = Set.of("GET", "POST", "CONNECT", "HEAD", "PUT");

    private CommandSensors() {
    }

    /**
     * {@code http} for an HTTP verb, {@code header} for a message header line sent as a command ({@code Subject: hi},
     * {@code From: a@b}: a name of letters, digits and '-' ending in ':'), else null.
     */
    public static String classify(String command) {
        if (command == null || command.isEmpty()) {
            return null;
        }
        if (HTTP_VERBS.contains(command)) {
            return HTTP;
        }
        int colon = command.indexOf(':');
        if (colon <= 0) {
            return null;
        }
        for (int i = 0; i < colon; i++) {
            char c = command.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
            if (!ok) {
                return null;
            }
        }
        char first = command.charAt(0);
        return Character.isLetter(first) ? HEADER : null;
    }
}
