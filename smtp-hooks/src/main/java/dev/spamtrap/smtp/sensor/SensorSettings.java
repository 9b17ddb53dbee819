package dev.spamtrap.smtp.sensor;

import dev.spamtrap.core.config.Durations;
import org.apache.commons.configuration2.Configuration;

import java.time.Duration;
import java.util.Locale;

/**
 * The protocol sensors' settings, read from the handler's block in {@code smtpserver.xml}: per sensor
 * ({@code pregreet}, {@code http}, {@code header}) {@code enabled} (default true) and {@code action}
 * ({@code observe} | {@code tarpit} | {@code refuse}, default {@code tarpit}); for pregreet also {@code wait} (6s) and
 * {@code passLifetime} (24h). A bad value throws {@link IllegalArgumentException} whose message starts with the
 * parameter's name and a colon.
 */
public final class SensorSettings {
    /** What a sensor does to the connection that broke the protocol (it is recorded in every case). */
    public enum Action {
        /** Record and report ("would have refused"); the client notices nothing, and is not refused when it returns. */
        OBSERVE,
        /** Record; tarpit this connection from now on (and it is tarpitted when it returns, while listed). */
        TARPIT,
        /** Record; refuse at once and close (and refuse or tarpit it when it returns, as OffenderConnectHandler does). */
        REFUSE;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One sensor: on or off, and its action. */
    public static final class Sensor {
        private final boolean enabled;
        private final Action action;

        public Sensor(boolean enabled, Action action) {
            this.enabled = enabled;
            this.action = action;
        }

        public boolean enabled() { return enabled; }
        public Action action() { return action; }

        @Override
        public String toString() {
            return enabled ? action.label() : "off";
        }
    }

    public static final Duration DEFAULT_WAIT = Duration.ofSeconds(6);
    public static final Duration DEFAULT_PASS_LIFETIME = Duration.ofHours(24);

    private final Sensor pregreet;
    private final Duration wait;
    private final Duration passLifetime;
    private final Sensor http;
    private final Sensor header;

    public SensorSettings(Sensor pregreet, Duration wait, Duration passLifetime, Sensor http, Sensor header) {
        this.pregreet = pregreet;
        this.wait = wait;
        this.passLifetime = passLifetime;
        this.http = http;
        this.header = header;
    }

    public static SensorSettings from(Configuration config) {
        Duration wait = duration(config, "pregreet.wait", DEFAULT_WAIT);
        if (wait.toMillis() < 100 || wait.compareTo(Duration.ofSeconds(60)) > 0) {
            throw new IllegalArgumentException("pregreet.wait: " + Durations.human(wait) + " is out of range 100ms .. 60s (postscreen uses 6s;"
                + " keep it well below your clients' greeting timeout, 300s in RFC 5321)");
        }
        Duration pass = duration(config, "pregreet.passLifetime", DEFAULT_PASS_LIFETIME);
        if (pass.getSeconds() < 1 || pass.compareTo(Duration.ofDays(30)) > 0) {
            throw new IllegalArgumentException("pregreet.passLifetime: " + Durations.human(pass) + " is out of range 1s .. 30d");
        }
        return new SensorSettings(sensor(config, "pregreet"), wait, pass, sensor(config, "http"), sensor(config, "header"));
    }

    private static Sensor sensor(Configuration config, String name) {
        String enabled = config.getString(name + ".enabled", "true").trim().toLowerCase(Locale.ROOT);
        if (!enabled.equals("true") && !enabled.equals("false")) {
            throw new IllegalArgumentException(name + ".enabled: '" + enabled + "' is not true or false");
        }
        String action = config.getString(name + ".action", "tarpit").trim().toLowerCase(Locale.ROOT);
        Action a;
        switch (action) {
            case "observe": a = Action.OBSERVE; break;
            case "tarpit": a = Action.TARPIT; break;
            case "refuse": a = Action.REFUSE; break;
            default:
                throw new IllegalArgumentException(name + ".action: '" + action + "' is not one of observe, tarpit, refuse");
        }
        return new Sensor(enabled.equals("true"), a);
    }

    private static Duration duration(Configuration config, String key, Duration dflt) {
        String v = config.getString(key, null);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Durations.parse(v.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": '" + v.trim() + "' is not a duration (use e.g. 500ms, 6s, 24h)");
        }
    }

    public Sensor pregreet() { return pregreet; }
    /** How long the final greeting line is held after the teaser. */
    public Duration pregreetWait() { return wait; }
    /** How long a client that waited skips the test, on every node. */
    public Duration passLifetime() { return passLifetime; }
    public Sensor http() { return http; }
    public Sensor header() { return header; }

    @Override
    public String toString() {
        return "pregreet " + pregreet + (pregreet.enabled() ? " (wait " + Durations.human(wait) + ", pass " + Durations.human(passLifetime) + ")" : "")
            + ", http " + http + ", header " + header;
    }
}
