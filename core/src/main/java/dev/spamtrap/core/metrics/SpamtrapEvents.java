package dev.spamtrap.core.metrics;

import dev.spamtrap.core.offender.Evidence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One log line per event (logger {@code dev.spamtrap.events}), with the same facts in MDC fields
 * ({@code spamtrap.event}, {@code spamtrap.client}, ...) for JSON log layouts, and the matching metric.
 *
 * <p>The line is {@code spamtrap EVENT} followed by {@code key="value"} fields in a fixed order, {@code client}
 * always first, e.g.
 * <pre>{@code spamtrap hit client="192.0.2.7" trap="trap@example.com" kind="address" helo="x client=6.6.6.6" from="a@b" via="direct"}</pre>
 * Every value is quoted; a {@code "} or {@code \} inside a value is written {@code \"} / {@code \\}, and control
 * characters were already replaced by {@code ?} ({@link Evidence#clean}). So no text a client sends can end a value
 * or add a field: {@code client="} occurs exactly once per line. The fail2ban filter in docs/admin.md relies on it.
 *
 * <p>Events are logged by one background thread, never on the SMTP event loop that reports them; the metric is
 * counted at once. If the queue is full (a burst beyond {@value #QUEUE} pending lines) the line is dropped and
 * counted ({@link #dropped()}), the metric still counts it.
 */
public final class SpamtrapEvents {
    private static final Logger EVENTS = LoggerFactory.getLogger("dev.spamtrap.events");
    static final int QUEUE = 10_000;

    private final SpamtrapMetrics metrics;
    private final Executor writer;
    private final AtomicLong dropped = new AtomicLong();

    public SpamtrapEvents(SpamtrapMetrics metrics) {
        this(metrics, backgroundWriter());
    }

    /** With the executor that writes the lines (tests pass {@code Runnable::run}). */
    public SpamtrapEvents(SpamtrapMetrics metrics, Executor writer) {
        this.metrics = metrics;
        this.writer = writer;
    }

    private static Executor backgroundWriter() {
        ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "spamtrap-events");
            t.setDaemon(true);
            return t;
        });
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    /** A client that is not exempt sent to a trap: it is listed. {@code via} is {@code direct} or {@code relay=ADDRESS}. */
    public void hit(String client, String trapAddress, String trapKind, String heloGiven, String mailFromGiven, String via) {
        String kind = trapKind.toLowerCase(Locale.ROOT);
        metrics.hit(kind);
        Map<String, String> f = fields(client);
        f.put("trap", trapAddress);
        f.put("kind", kind);
        f.put("helo", heloGiven);
        f.put("from", mailFromGiven);
        f.put("via", via);
        write("hit", f);
    }

    /** As {@link #hit(String, String, String, String, String, String)}, received directly. */
    public void hit(String client, String trapAddress, String trapKind, String heloGiven, String mailFromGiven) {
        hit(client, trapAddress, trapKind, heloGiven, mailFromGiven, "direct");
    }

    /**
     * A bounce or auto-reply (null sender) to a trap: evidence that someone forged a trap as a sender, not an offence
     * of this client. Nothing is listed.
     */
    public void backscatter(String client, String trapAddress, String heloGiven) {
        metrics.backscatter();
        Map<String, String> f = fields(client);
        f.put("trap", trapAddress);
        f.put("helo", heloGiven);
        write("backscatter", f);
    }

    /**
     * An exempt client sent to a trap: answered as anyone, its trap copy quarantined, nothing listed. {@code why} is
     * {@code authenticated} (then {@code account} names the login: a probable compromised account),
     * {@code relay-authorized} or {@code allowlisted}.
     */
    public void exemptHit(String client, String why, String account, String trapAddress, String mailFromGiven) {
        metrics.exemptHit(why);
        Map<String, String> f = fields(client);
        f.put("exempt", why);
        if (account != null) {
            f.put("account", account);
        }
        f.put("trap", trapAddress);
        f.put("from", mailFromGiven);
        write("exempt-hit", f);
    }

    public void refusal(String client, String how, Object listedUntil) {
        metrics.refusal(how);
        Map<String, String> f = fields(client);
        f.put("action", how);
        f.put("until", String.valueOf(listedUntil));
        write("refusal", f);
    }

    /**
     * A listed client turned away (or, for an observed listing, {@code how} = {@code observe}: let through, would have been
     * refused), with the listing's class ({@code trap} | {@code protocol} | {@code list}) and cause ({@code trap}, {@code repeat},
     * {@code prefix-escalation}, {@code manual}, {@code protocol:pregreet} ...; observed ones start {@code observe:}).
     */
    public void refusal(String client, String how, Object listedUntil, dev.spamtrap.core.offender.Cause cause) {
        if (cause.isObserved()) {
            metrics.wouldRefuse(cause.label());
        } else {
            metrics.refusal(how);
        }
        if (cause.isList()) {
            metrics.listRefusal(cause.listName(), cause.isObserved() ? "observe" : how);
        }
        Map<String, String> f = fields(client);
        f.put("action", cause.isObserved() ? "observe" : how);
        f.put("until", String.valueOf(listedUntil));
        f.put("class", cause.confidence().label());
        f.put("cause", cause.label());
        if (cause.sensor() != null) {
            f.put("sensor", cause.sensor());
        }
        if (cause.isList()) {
            f.put("list", cause.listName());
        }
        write("refusal", f);
    }

    /**
     * A protocol sensor caught a client: it is listed with class {@code protocol} (or observed). {@code action} is what
     * the sensor does to this connection: {@code tarpit}, {@code refuse} or {@code observe}; {@code sent} what the
     * client sent (cleaned, cut).
     */
    public void protocol(String client, String sensor, String action, String sent) {
        metrics.protocol(sensor, action);
        Map<String, String> f = fields(client);
        f.put("class", "protocol");
        f.put("sensor", sensor);
        f.put("action", action);
        f.put("sent", sent);
        write("protocol", f);
    }

    /** Lines not written because the writer was saturated. */
    public long dropped() {
        return dropped.get();
    }

    private static Map<String, String> fields(String client) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("client", client);
        return f;
    }

    private void write(String event, Map<String, String> fields) {
        String line = line(event, fields);
        try {
            writer.execute(() -> {
                try (MDC.MDCCloseable a = MDC.putCloseable("spamtrap.event", event);
                     MDC.MDCCloseable b = MDC.putCloseable("spamtrap.client", fields.get("client"))) {
                    EVENTS.info(line);
                }
            });
        } catch (RejectedExecutionException e) {
            dropped.incrementAndGet();
        }
    }

    /** {@code spamtrap EVENT key="value" ...}, every value cleaned and quoted. */
    public static String line(String event, Map<String, String> fields) {
        StringBuilder sb = new StringBuilder(160).append("spamtrap ").append(event);
        for (Map.Entry<String, String> e : fields.entrySet()) {
            sb.append(' ').append(e.getKey()).append("=\"");
            String v = Evidence.clean(e.getValue());
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if (c == '"' || c == '\\') {
                    sb.append('\\');
                }
                sb.append(c);
            }
            sb.append('"');
        }
        return sb.toString();
    }
}
