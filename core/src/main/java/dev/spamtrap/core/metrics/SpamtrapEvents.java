package dev.spamtrap.core.metrics;

import dev.spamtrap.core.offender.Evidence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.Locale;

/**
 * One structured log line per hit and per refusal (logger {@code dev.spamtrap.events}), with the same
 * facts in MDC fields ({@code spamtrap.event}, {@code spamtrap.client}, ...) for JSON log layouts, and
 * the matching metric. The message text is stable so fail2ban-style tools can match it, e.g.
 * {@code spamtrap hit client=192.0.2.7 trap=<trap@example.com> kind=address helo=x from=<a@b>}.
 */
public final class SpamtrapEvents {
    private static final Logger EVENTS = LoggerFactory.getLogger("dev.spamtrap.events");

    private final SpamtrapMetrics metrics;

    public SpamtrapEvents(SpamtrapMetrics metrics) {
        this.metrics = metrics;
    }

    public void hit(String client, String trapAddress, String trapKind, String heloGiven, String mailFromGiven) {
        // what the client said, as kept everywhere else: no control characters, at most 256 chars
        String trap = Evidence.clean(trapAddress);
        String helo = Evidence.clean(heloGiven);
        String mailFrom = Evidence.clean(mailFromGiven);
        String kind = trapKind.toLowerCase(Locale.ROOT);
        metrics.hit(kind);
        try (MDC.MDCCloseable a = MDC.putCloseable("spamtrap.event", "hit");
             MDC.MDCCloseable b = MDC.putCloseable("spamtrap.client", client);
             MDC.MDCCloseable c = MDC.putCloseable("spamtrap.trap", trap);
             MDC.MDCCloseable d = MDC.putCloseable("spamtrap.trapKind", kind)) {
            EVENTS.info("spamtrap hit client={} trap=<{}> kind={} helo={} from=<{}>", client, trap, kind, helo, mailFrom);
        }
    }

    public void refusal(String client, String how, Object listedUntil) {
        metrics.refusal(how);
        try (MDC.MDCCloseable a = MDC.putCloseable("spamtrap.event", "refusal");
             MDC.MDCCloseable b = MDC.putCloseable("spamtrap.client", client);
             MDC.MDCCloseable c = MDC.putCloseable("spamtrap.action", how)) {
            EVENTS.info("spamtrap refusal client={} action={} until={}", client, how, listedUntil);
        }
    }
}
