package dev.spamtrap.smtp;

import dev.spamtrap.core.config.Durations;
import dev.spamtrap.core.metrics.SpamtrapEvents;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.runtime.Spamtrap;
import dev.spamtrap.smtp.tarpit.Tarpit;
import dev.spamtrap.smtp.tarpit.TarpitSettings;
import org.apache.commons.configuration2.Configuration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.ConnectHandler;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataLineFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Deals with a returning offender (an address in the node's in-memory offender view) when it connects: either
 * tarpits it, as OpenBSD spamd does, or refuses it before the greeting and closes. The check is a lookup in
 * the local view: no Cassandra round trip, no waiting.
 *
 * <pre>{@code
 * <handler class="dev.spamtrap.smtp.OffenderConnectHandler">
 *   <mode>tarpit</mode>            <!-- tarpit (default) or refuse -->
 *   <refuseCode>450</refuseCode>   <!-- 450 (default, spamd-like) or 550 -->
 *   <refuseText>Your address %A has sent mail to a spamtrap on this server within the last %L</refuseText>
 *   <tarpit>
 *     <delay>10s</delay>
 *     <stutter>false</stutter>
 *     <stutterBytes>1</stutterBytes>
 *     <stutterInterval>1s</stutterInterval>
 *     <maxDuration>10m</maxDuration>
 *     <maxConnections>10000</maxConnections>
 *     <maxConnectionsPerClient>100</maxConnectionsPerClient>
 *   </tarpit>
 * </handler>
 * }</pre>
 * {@code %A} is the client's address, {@code %L} the configured offender lifetime. The text never names a trap.
 *
 * <p>{@code refuse}: the refusal at once, then close. {@code tarpit}: the conversation goes on, every reply
 * {@code delay} late (see {@link dev.spamtrap.smtp.tarpit.TarpitGate}); after the message's final "." the
 * client gets the refusal instead of a queue id and is closed, and nothing it sent is ever delivered (this
 * class is also the outermost {@link DataLineFilter}: it swallows a tarpitted client's message lines). After
 * {@code maxDuration} it gets the refusal and is closed whatever it is doing. If the tarpit is full (in all,
 * or for this client's address or IPv6 /64) the client is refused at once. A tarpitted client's STARTTLS is
 * answered 454 (by the gate). Listed anywhere in {@code <handlerchain>}, the handler runs before James's
 * core handlers, as it must: before the greeting, and as the first data line filter.
 */
public class OffenderConnectHandler implements ConnectHandler<SMTPSession>, DataLineFilter {
    private static final Logger LOGGER = LoggerFactory.getLogger(OffenderConnectHandler.class);
    static final String DEFAULT_TEXT = "Your address %A has sent mail to a spamtrap on this server within the last %L";

    public enum Mode { TARPIT, REFUSE }

    /** James's connect-handler statistics cannot take null: an empty response writes nothing. */
    static final Response NOTHING = new Response() {
        @Override
        public String getRetCode() {
            return "";
        }

        @Override
        public List<CharSequence> getLines() {
            return List.of();
        }

        @Override
        public boolean isEndSession() {
            return false;
        }
    };

    private final Spamtrap spamtrap;
    private final SpamtrapEvents events;
    private final MetricFactory metricFactory;
    private final GaugeRegistry gaugeRegistry;
    private String code = "450";
    private String text = DEFAULT_TEXT;
    private Mode mode = Mode.TARPIT;
    private Tarpit tarpit;

    /** The runtime and events come from the node's one runtime ({@code dev.spamtrap.webadmin.SpamtrapModule}). */
    @Inject
    public OffenderConnectHandler(Spamtrap spamtrap, SpamtrapEvents events, MetricFactory metricFactory, GaugeRegistry gaugeRegistry) {
        this.spamtrap = spamtrap;
        this.events = events;
        this.metricFactory = metricFactory;
        this.gaugeRegistry = gaugeRegistry;
    }

    @Override
    public void init(Configuration config) throws ConfigurationException {
        code = config.getString("refuseCode", "450").trim();
        if (!code.equals("450") && !code.equals("550")) {
            throw SpamtrapHandlerSupport.badParameter(getClass(), "refuseCode", "'" + code + "' is not 450 or 550");
        }
        text = config.getString("refuseText", DEFAULT_TEXT).trim();
        if (text.isEmpty() || text.contains("\r") || text.contains("\n")) {
            throw SpamtrapHandlerSupport.badParameter(getClass(), "refuseText", "must be one non-empty line");
        }
        String m = config.getString("mode", "tarpit").trim().toLowerCase(Locale.ROOT);
        switch (m) {
            case "tarpit": mode = Mode.TARPIT; break;
            case "refuse": mode = Mode.REFUSE; break;
            default: throw SpamtrapHandlerSupport.badParameter(getClass(), "mode", "'" + m + "' is not one of tarpit, refuse");
        }
        TarpitSettings settings;
        try {
            settings = TarpitSettings.from(config);
        } catch (IllegalArgumentException e) {
            String key = e.getMessage().contains(":") ? e.getMessage().substring(0, e.getMessage().indexOf(':')) : "tarpit";
            throw SpamtrapHandlerSupport.badParameter(getClass(), key, e.getMessage().substring(e.getMessage().indexOf(':') + 1).trim());
        }
        if (mode == Mode.TARPIT) {
            tarpit = new Tarpit(settings, metricFactory, gaugeRegistry);
        }
        SpamtrapHandlerSupport.checkNoOwnConfiguration(config, getClass());
        LOGGER.info("Returning offenders are {}", mode == Mode.TARPIT ? "tarpitted (" + settings + ")" : "refused at once with " + code);
    }

    @Override
    public Response onConnect(SMTPSession session) {
        if (SpamtrapHandlerSupport.isExempt(spamtrap, session)) {
            return NOTHING;
        }
        Optional<Offender> offender = spamtrap.activeOffender(session.getRemoteAddress().getAddress());
        if (offender.isEmpty()) {
            return NOTHING;
        }
        String ip = SpamtrapHandlerSupport.clientIp(session);
        if (mode == Mode.TARPIT) {
            Tarpit.Outcome outcome = tarpit.enter(session, bytes(refusal(ip)));
            if (outcome == Tarpit.Outcome.TARPITTED) {
                events.refusal(ip, "tarpit", offender.get().expiresAt());
                return NOTHING;
            }
            events.refusal(ip, "tarpit-full", offender.get().expiresAt());
            return refusal(ip);
        }
        events.refusal(ip, "refuse", offender.get().expiresAt());
        return refusal(ip);
    }

    /**
     * Outermost data line filter: a tarpitted client's message lines go nowhere; its final "." gets the
     * refusal (delayed like every reply) and the connection is closed. Anyone else's lines pass untouched.
     */
    @Override
    public Response onLine(SMTPSession session, byte[] line, LineHandler<SMTPSession> next) {
        if (!Tarpit.isTarpitted(session)) {
            return next.onLine(session, line);
        }
        if (isEndOfData(line)) {
            session.popLineHandler();
            session.resetState();
            String ip = SpamtrapHandlerSupport.clientIp(session);
            LOGGER.debug("Tarpitted offender {} finished its message: refusing it and closing", ip);
            return refusal(ip);
        }
        return null;
    }

    static boolean isEndOfData(byte[] line) {
        return (line.length == 3 && line[0] == '.' && line[1] == '\r' && line[2] == '\n')
            || (line.length == 2 && line[0] == '.' && line[1] == '\n');
    }

    SMTPResponse refusal(String ip) {
        String dsn = code.equals("450") ? "4.7.1" : "5.7.1";
        SMTPResponse response = new SMTPResponse(code, dsn + " " + expand(text, ip));
        response.setEndSession(true);
        return response;
    }

    static byte[] bytes(Response response) {
        StringBuilder sb = new StringBuilder();
        for (CharSequence line : response.getLines()) {
            sb.append(line).append("\r\n");
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    String expand(String template, String ip) {
        return template.replace("%A", ip).replace("%L", Durations.human(spamtrap.config().policy().lifetime()));
    }

    Mode mode() {
        return mode;
    }
}
