package dev.spamtrap.smtp;

import dev.spamtrap.core.config.Durations;
import dev.spamtrap.core.metrics.SpamtrapEvents;
import dev.spamtrap.core.offender.Cause;
import dev.spamtrap.core.offender.ActiveListing;
import dev.spamtrap.core.runtime.Spamtrap;
import dev.spamtrap.smtp.tarpit.HalfClosedInput;
import dev.spamtrap.smtp.tarpit.Tarpit;
import dev.spamtrap.smtp.tarpit.TarpitSettings;
import org.apache.commons.configuration2.Configuration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.ConnectHandler;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.api.handler.ProtocolHandler;
import org.apache.james.protocols.api.handler.ProtocolHandlerResultHandler;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataLineFilter;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.MailHook;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.api.ProtocolSession.AttachmentKey;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.net.InetAddress;
import java.time.Duration;
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
 *   <refuseText>Your address %A %R within the last %L</refuseText>
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
 * {@code %R} is why, as far as the node's view knows ({@link Cause#refusalReason()}), for the client's own key:
 * {@code has sent mail to a spamtrap on this server} (a trap hit), {@code ... again} (a repeat offence),
 * {@code is listed by this server's administrator} (by hand), {@code has broken the SMTP protocol on this server} (a
 * protocol sensor), {@code is in a network range listed by this server} (an escalated prefix); and for a prefix listed
 * around it, {@code is in a network range listed by this server}. {@code %K} is the listed key itself. A listing in
 * observe mode is reported (event {@code refusal action="observe"}, counter {@code spamtrap_would_refuse}) and never
 * acted on.
 * {@code %A} is the client's address, {@code %L} the lifetime this client's listing actually has (24 hours, 48
 * hours ... as its record says). The text never names a trap.
 *
 * <p>A client on a list loaded from a file or URL ({@code lists} in spamtrap.properties, see
 * {@link dev.spamtrap.core.blocklist.Blocklists}) and with no listing of its own is answered with that list's text
 * ({@code list.<name>.message}, where {@code %A} is the client's address) and this handler's code; the list's
 * {@code action} says how: {@code refuse} at once whatever the mode, {@code tarpit} as the mode says, {@code observe}
 * reported only. The exemptions below come first, as for any listing.
 *
 * <p>{@code <checkAt>}: when the decision is taken. {@code auto} (default): at the first MAIL FROM if this
 * server offers AUTH to the client (so a user behind an offender's NAT address or IPv6 /64 can still
 * authenticate and send: an authenticated MAIL is never refused) or if the server reads a PROXY header
 * ({@code proxyRequired}: at connect James only knows the proxy's address); otherwise at connect, before the
 * greeting. {@code connect}: always at connect (except behind {@code proxyRequired}, where it would judge the
 * proxy). {@code mail}: always at the first MAIL FROM. Decided at MAIL FROM, a tarpit starts with that reply
 * and a refusal is the reply to MAIL FROM, then close. Whatever {@code checkAt} says, the verdict is taken again at
 * every MAIL FROM (a client listed since it connected gets no further mail through; a connection that hit a trap
 * itself is left as it is, or the trap would show) and on a failed AUTH ({@code 535}) of a listed client.
 *
 * <p>Never refused nor tarpitted: authenticated sessions, {@code authorizedAddresses}, allowlisted clients and the
 * trusted relays ({@code trustedRelays} in {@code spamtrap.properties}),
 * also inside a listed prefix. The decision table is {@link #verdict}.
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
public class OffenderConnectHandler implements ConnectHandler<SMTPSession>, DataLineFilter, MailHook,
    ProtocolHandlerResultHandler<Response, ProtocolSession> {
    private static final Logger LOGGER = LoggerFactory.getLogger(OffenderConnectHandler.class);
    static final String DEFAULT_TEXT = "Your address %A %R within the last %L";
    static final String REASON_OWN = Cause.TRAP.refusalReason();
    static final String REASON_PREFIX = Cause.PREFIX_AROUND;

    public enum Mode { TARPIT, REFUSE }

    public enum CheckAt { AUTO, CONNECT, MAIL }

    /** Connection state: the refusal a tarpitted client gets after its message (carries its own %L). */
    static final AttachmentKey<SMTPResponse> REFUSAL = AttachmentKey.of("dev.spamtrap.refusal", SMTPResponse.class);
    /** Connection state: an observed listing of this client was reported already (once per connection). */
    static final AttachmentKey<Boolean> OBSERVED = AttachmentKey.of("dev.spamtrap.observed", Boolean.class);

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
    private CheckAt checkAt = CheckAt.AUTO;
    private Tarpit tarpit;

    /** The runtime and events come from the node's one runtime ({@code dev.spamtrap.james.SpamtrapModule}). */
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
        String at = config.getString("checkAt", "auto").trim().toLowerCase(Locale.ROOT);
        switch (at) {
            case "auto": checkAt = CheckAt.AUTO; break;
            case "connect": checkAt = CheckAt.CONNECT; break;
            case "mail": checkAt = CheckAt.MAIL; break;
            default: throw SpamtrapHandlerSupport.badParameter(getClass(), "checkAt", "'" + at + "' is not one of auto, connect, mail");
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
        LOGGER.info("Returning offenders are {}", mode == Mode.TARPIT ? "tarpitted (" + settings + ")" : "refused at once with " + code);
    }

    /** When a verdict is asked for: at connect, or at a MAIL FROM. */
    enum Stage { CONNECT, MAIL }

    /** What to do with the client now. */
    enum Action { NONE, DEFER, TARPIT, REFUSE }

    /**
     * Whether the connect-time verdict waits for MAIL FROM: always behind {@code proxyRequired} (at connect James only
     * knows the proxy), always with {@code checkAt=mail}, never with {@code connect}, and with {@code auto} when this
     * server offers AUTH to the client (so a user behind an offender's NAT address or IPv6 /64 can log in first).
     */
    static boolean deferToMail(CheckAt checkAt, boolean proxyRequired, boolean authOffered) {
        if (proxyRequired || checkAt == CheckAt.MAIL) {
            return true;
        }
        return checkAt == CheckAt.AUTO && authOffered;
    }

    /**
     * The verdict, the same table at connect and at every MAIL FROM. {@code handled}: this connection is already
     * tarpitted, or it hit a trap itself (then its mail is quarantined and every reply must stay as it was, or the
     * trap would show). {@code exempt}: authenticated, relay-authorized, allowlisted or a trusted relay.
     */
    static Action verdict(Stage stage, boolean deferred, boolean handled, boolean exempt, boolean listed, Mode mode) {
        if (stage == Stage.CONNECT && deferred) {
            return Action.DEFER;
        }
        if (handled || exempt || !listed) {
            return Action.NONE;
        }
        return mode == Mode.TARPIT ? Action.TARPIT : Action.REFUSE;
    }

    @Override
    public Response onConnect(SMTPSession session) {
        HalfClosedInput.install(session);
        boolean deferred = deferToMail(checkAt, SpamtrapHandlerSupport.isProxyRequired(session),
            session.getConfiguration().isAuthAnnounced(session.getRemoteAddress().getAddress().getHostAddress(), true));
        Response refusal = act(session, Stage.CONNECT, deferred);
        return refusal == null ? NOTHING : refusal;
    }

    /**
     * The verdict again at every MAIL FROM: a client listed since it connected (by a hit on another connection or
     * node, or by hand) gets no further mail through; an authenticated MAIL is never refused (exempt).
     */
    @Override
    public HookResult doMail(SMTPSession session, MaybeSender sender) {
        SMTPResponse refusal = act(session, Stage.MAIL, false);
        if (refusal == null) {
            return HookResult.DECLINED;
        }
        return HookResult.builder()
            .hookReturnCode(HookReturnCode.disconnected(code.equals("450") ? HookReturnCode.Action.DENYSOFT : HookReturnCode.Action.DENY))
            .smtpReturnCode(refusal.getRetCode())
            .smtpDescription(String.valueOf(refusal.getLines().get(0)).substring(code.length() + 1))
            .build();
    }

    /**
     * A listed client's failed AUTH (535) is answered as a listed client is: tarpitted from that reply on, or
     * refused. A successful AUTH is untouched, so a user behind an offender's address still logs in and sends.
     */
    @Override
    public Response onResponse(ProtocolSession protocolSession, Response response, long executionTime, ProtocolHandler handler) {
        if (response == null || !"535".equals(response.getRetCode()) || !(protocolSession instanceof SMTPSession)) {
            return response;
        }
        SMTPSession session = (SMTPSession) protocolSession;
        SMTPResponse refusal = act(session, Stage.MAIL, false);
        return refusal == null ? response : refusal;
    }

    /** Applies the verdict. Returns the refusal to send now, or null to go on. */
    private SMTPResponse act(SMTPSession session, Stage stage, boolean deferred) {
        InetAddress client = session.getRemoteAddress().getAddress();
        boolean handled = Tarpit.isTarpitted(session) || session.getAttachment(SpamtrapSessionKeys.TRAPPED, State.Connection).isPresent();
        boolean exempt = !handled && !deferred && SpamtrapHandlerSupport.isExempt(spamtrap, session);
        Optional<ActiveListing> offender = handled || exempt || deferred ? Optional.empty() : spamtrap.activeListing(client);
        if (offender.isPresent() && offender.get().cause().isObserved()) {
            // observe mode: what would have been refused is reported (event, would-refuse counter), never acted on
            if (session.getAttachment(OBSERVED, State.Connection).isEmpty()) {
                session.setAttachment(OBSERVED, Boolean.TRUE, State.Connection);
                events.refusal(SpamtrapHandlerSupport.clientIp(session), mode == Mode.TARPIT ? "tarpit" : "refuse", offender.get().until(),
                    offender.get().cause());
            }
            offender = Optional.empty();
        }
        Action action = verdict(stage, deferred, handled, exempt, offender.isPresent(), mode);
        if (action == Action.NONE || action == Action.DEFER) {
            return null;
        }
        if (action == Action.TARPIT && !listTarpits(offender.get().cause())) {
            action = Action.REFUSE;
        }
        String ip = SpamtrapHandlerSupport.clientIp(session);
        SMTPResponse refusal = refusal(ip, offender.get());
        if (action == Action.TARPIT) {
            Tarpit.Outcome outcome = tarpit.enter(session, bytes(refusal));
            if (outcome == Tarpit.Outcome.TARPITTED) {
                session.setAttachment(REFUSAL, refusal, State.Connection);
                events.refusal(ip, "tarpit", offender.get().until(), offender.get().cause());
                return null;
            }
            events.refusal(ip, "tarpit-full", offender.get().until(), offender.get().cause());
            return refusal;
        }
        events.refusal(ip, "refuse", offender.get().until(), offender.get().cause());
        return refusal;
    }

    /**
     * A protocol sensor ({@link ProtocolSensorHandler}) caught this connection's client: it is tarpitted now (when
     * {@code tarpit} and this handler tarpits; returns null) or gets the refusal returned, with {@code %R} saying the
     * protocol was broken and {@code %L} the protocol listing's lifetime. On the event loop.
     */
    SMTPResponse protocolOffence(SMTPSession session, Cause cause, boolean tarpitIt) {
        String ip = SpamtrapHandlerSupport.clientIp(session);
        java.time.Instant now = spamtrap.clock().instant();
        ActiveListing listing = new ActiveListing(spamtrap.offenderKey(session.getRemoteAddress().getAddress()), now,
            now.plus(spamtrap.config().protocolLifetime()), cause);
        SMTPResponse refusal = refusal(ip, listing);
        if (tarpitIt && tarpit != null && !Tarpit.isTarpitted(session)) {
            Tarpit.Outcome outcome = tarpit.enter(session, bytes(refusal));
            if (outcome == Tarpit.Outcome.TARPITTED) {
                session.setAttachment(REFUSAL, refusal, State.Connection);
                events.refusal(ip, "tarpit", listing.until(), cause);
                return null;
            }
            events.refusal(ip, "tarpit-full", listing.until(), cause);
            return refusal;
        }
        events.refusal(ip, "refuse", listing.until(), cause);
        return refusal;
    }

    /** Whether this handler tarpits (mode tarpit); else it refuses. */
    boolean tarpits() {
        return tarpit != null;
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
            LOGGER.debug("Tarpitted offender {} finished its message: refusing it and closing", SpamtrapHandlerSupport.clientIp(session));
            return session.getAttachment(REFUSAL, State.Connection).orElseThrow();
        }
        return null;
    }

    static boolean isEndOfData(byte[] line) {
        return (line.length == 3 && line[0] == '.' && line[1] == '\r' && line[2] == '\n')
            || (line.length == 2 && line[0] == '.' && line[1] == '\n');
    }

    /** A list's action {@code refuse} refuses its clients at once even in mode tarpit; every other listing follows the mode. */
    private boolean listTarpits(Cause cause) {
        if (!cause.isList()) {
            return true;
        }
        return spamtrap.blocklists().named(cause.listName())
            .map(l -> l.settings().action() == dev.spamtrap.core.blocklist.BlocklistSettings.Action.TARPIT).orElse(false);
    }

    /** The refusal text: the list's own ({@code list.<name>.message}) for a client on a loaded list, else {@code refuseText}. */
    private String textFor(ActiveListing offender) {
        if (!offender.cause().isList()) {
            return text;
        }
        return spamtrap.blocklists().named(offender.cause().listName()).map(l -> l.settings().message()).orElse(text);
    }

    SMTPResponse refusal(String ip, ActiveListing offender) {
        String dsn = code.equals("450") ? "4.7.1" : "5.7.1";
        boolean own = offender.key().equals(spamtrap.config().offenderKeys().canonicalKey(ip));
        SMTPResponse response = new SMTPResponse(code, dsn + " " + expand(textFor(offender), ip, lifetimeOf(offender), reasonText(offender, own),
            offender.key()));
        response.setEndSession(true);
        return response;
    }

    /** {@code %R}: the cause of the client's own key's listing, or the range wording for a prefix listed around it. */
    static String reasonText(ActiveListing offender, boolean ownKey) {
        return ownKey || offender.cause().isList() ? offender.cause().refusalReason() : REASON_PREFIX;
    }

    static byte[] bytes(Response response) {
        StringBuilder sb = new StringBuilder();
        for (CharSequence line : response.getLines()) {
            sb.append(line).append("\r\n");
        }
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static String expand(String template, String ip, Duration lifetime, String reason, String key) {
        return template.replace("%A", ip).replace("%R", reason).replace("%K", key).replace("%L", Durations.human(lifetime));
    }

    /** The listing this client actually got: from its start to its end, as the view has it. */
    Duration lifetimeOf(ActiveListing offender) {
        if (offender.since() == null || !offender.until().isAfter(offender.since())) {
            return spamtrap.config().policy().lifetime();
        }
        // The view keeps whole seconds, and a listing learnt from another node starts when this node read the
        // change feed (about a second late): round to the nearest second, and to the minute for long listings.
        long millis = Duration.between(offender.since(), offender.until()).toMillis();
        long unit = millis >= 600_000 ? 60_000 : 1_000;
        return Duration.ofMillis((millis + unit / 2) / unit * unit);
    }

    Mode mode() {
        return mode;
    }
}
