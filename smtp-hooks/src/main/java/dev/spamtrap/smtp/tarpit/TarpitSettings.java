package dev.spamtrap.smtp.tarpit;

import dev.spamtrap.core.config.Durations;
import org.apache.commons.configuration2.Configuration;

import java.time.Duration;
import java.util.Objects;

/**
 * The {@code <tarpit>} parameters of {@code OffenderConnectHandler}. Immutable.
 *
 * <pre>{@code
 * <tarpit>
 *   <delay>10s</delay>                                  <!-- before every reply -->
 *   <stutter>false</stutter>                            <!-- write each reply a few bytes at a time -->
 *   <stutterBytes>1</stutterBytes>
 *   <stutterInterval>1s</stutterInterval>
 *   <maxDuration>10m</maxDuration>                      <!-- closes the connection in any case -->
 *   <maxConnections>10000</maxConnections>              <!-- concurrently tarpitted, this SMTP server -->
 *   <maxConnectionsPerClient>100</maxConnectionsPerClient> <!-- per IPv4 address / IPv6 /64 -->
 * </tarpit>
 * }</pre>
 */
public final class TarpitSettings {
    public static final Duration DEFAULT_DELAY = Duration.ofSeconds(10);
    public static final Duration DEFAULT_STUTTER_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_MAX_DURATION = Duration.ofMinutes(10);
    public static final int DEFAULT_STUTTER_BYTES = 1;
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    public static final int DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 100;
    /** Lines a pipelining client may have waiting while a reply is pending; more is dropped. */
    static final int MAX_BUFFERED_BYTES = 64 * 1024;

    private final Duration delay;
    private final boolean stutter;
    private final int stutterBytes;
    private final Duration stutterInterval;
    private final Duration maxDuration;
    private final int maxConnections;
    private final int maxConnectionsPerClient;

    public TarpitSettings(Duration delay, boolean stutter, int stutterBytes, Duration stutterInterval, Duration maxDuration,
                          int maxConnections, int maxConnectionsPerClient) {
        this.delay = Objects.requireNonNull(delay);
        this.stutter = stutter;
        this.stutterBytes = stutterBytes;
        this.stutterInterval = Objects.requireNonNull(stutterInterval);
        this.maxDuration = Objects.requireNonNull(maxDuration);
        this.maxConnections = maxConnections;
        this.maxConnectionsPerClient = maxConnectionsPerClient;
        check(!delay.isNegative(), "delay", "must not be negative");
        check(stutterBytes >= 1, "stutterBytes", "must be at least 1");
        check(!stutterInterval.isNegative() && !stutterInterval.isZero(), "stutterInterval", "must be positive");
        check(!maxDuration.isNegative() && !maxDuration.isZero(), "maxDuration", "must be positive");
        check(maxConnections >= 0, "maxConnections", "must not be negative");
        check(maxConnectionsPerClient >= 0, "maxConnectionsPerClient", "must not be negative");
    }

    public static TarpitSettings defaults() {
        return new TarpitSettings(DEFAULT_DELAY, false, DEFAULT_STUTTER_BYTES, DEFAULT_STUTTER_INTERVAL, DEFAULT_MAX_DURATION,
            DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_CLIENT);
    }

    /** Reads the {@code tarpit.*} keys of a handler configuration; throws IllegalArgumentException naming the bad key. */
    public static TarpitSettings from(Configuration config) {
        return new TarpitSettings(
            duration(config, "delay", DEFAULT_DELAY),
            bool(config, "stutter", false),
            integer(config, "stutterBytes", DEFAULT_STUTTER_BYTES),
            duration(config, "stutterInterval", DEFAULT_STUTTER_INTERVAL),
            duration(config, "maxDuration", DEFAULT_MAX_DURATION),
            integer(config, "maxConnections", DEFAULT_MAX_CONNECTIONS),
            integer(config, "maxConnectionsPerClient", DEFAULT_MAX_CONNECTIONS_PER_CLIENT));
    }

    private static Duration duration(Configuration config, String key, Duration dflt) {
        String v = config.getString("tarpit." + key, null);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Durations.parse(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tarpit." + key + ": " + e.getMessage(), e);
        }
    }

    private static int integer(Configuration config, String key, int dflt) {
        String v = config.getString("tarpit." + key, null);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("tarpit." + key + ": '" + v.trim() + "' is not a whole number", e);
        }
    }

    private static boolean bool(Configuration config, String key, boolean dflt) {
        String v = config.getString("tarpit." + key, null);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true": case "yes": case "on": return true;
            case "false": case "no": case "off": return false;
            default: throw new IllegalArgumentException("tarpit." + key + ": '" + v.trim() + "' is not true or false");
        }
    }

    private static void check(boolean ok, String key, String reason) {
        if (!ok) {
            throw new IllegalArgumentException("tarpit." + key + ": " + reason);
        }
    }

    public Duration delay() { return delay; }
    public boolean stutter() { return stutter; }
    public int stutterBytes() { return stutterBytes; }
    public Duration stutterInterval() { return stutterInterval; }
    public Duration maxDuration() { return maxDuration; }
    public int maxConnections() { return maxConnections; }
    public int maxConnectionsPerClient() { return maxConnectionsPerClient; }

    @Override
    public String toString() {
        return "delay " + delay + (stutter ? ", stutter " + stutterBytes + " byte(s) every " + stutterInterval : ", no stutter")
            + ", max " + maxDuration + " per connection, max " + maxConnections + " connections, " + maxConnectionsPerClient + " per client";
    }
}
