package dev.spamtrap.smtp;

import dev.spamtrap.core.metrics.SpamtrapEvents;
import dev.spamtrap.core.offender.Cause;
import dev.spamtrap.core.offender.Evidence;
import dev.spamtrap.core.runtime.Spamtrap;
import dev.spamtrap.smtp.sensor.CommandSensors;
import dev.spamtrap.smtp.sensor.PregreetGate;
import dev.spamtrap.smtp.sensor.SensorSettings;
import dev.spamtrap.smtp.tarpit.Tarpit;
import dev.spamtrap.smtp.tarpit.TarpitChannels;
import io.netty.channel.Channel;
import org.apache.commons.configuration2.Configuration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.james.protocols.api.ProtocolSession.AttachmentKey;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.ConnectHandler;
import org.apache.james.protocols.api.handler.ExtensibleHandler;
import org.apache.james.protocols.api.handler.WiringException;
import org.apache.james.protocols.netty.HandlerConstants;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.UnknownHook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.inject.Inject;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * Protocol sensors: clients that break SMTP in ways no mail server does are listed with class {@code protocol} (weak: for
 * {@code protocol.lifetime}, 1 h by default; tarpitted or refused at SMTP only, never sent to the firewall agent nor
 * exported) and cause {@code protocol:<sensor>}, on every node through the store.
 *
 * <pre>{@code
 * <handler class="dev.spamtrap.smtp.ProtocolSensorHandler">
 *   <pregreet>
 *     <enabled>true</enabled>
 *     <action>tarpit</action>           <!-- observe | tarpit | refuse -->
 *     <wait>6s</wait>                   <!-- the final greeting line comes this long after the teaser -->
 *     <passLifetime>24h</passLifetime>  <!-- a client that waited skips the test this long, on every node -->
 *   </pregreet>
 *   <http><enabled>true</enabled><action>tarpit</action></http>
 *   <header><enabled>true</enabled><action>tarpit</action></header>
 * </handler>
 * }</pre>
 * Every parameter is optional (the values above are the defaults). The handler needs
 * {@link OffenderConnectHandler} in the same {@code <handlerchain>}: its {@code mode}, refusal text and tarpit apply to
 * the clients the sensors catch.
 *
 * <ul>
 * <li><b>pregreet</b>: at connect, the first line of a multi-line greeting ({@code 220-host ESMTP}) goes out at once and
 * James's own greeting, the final line, {@code wait} later ({@link PregreetGate}). A client that sends anything before
 * the final line is caught. A client that waited is remembered for {@code passLifetime} (table
 * {@code pregreet_passed}, announced on the change feed) and gets the plain greeting at once on every node. Never
 * tested: relay-authorized ({@code authorizedAddresses}), allowlisted and trusted-relay clients, clients already
 * listed (the offender handler deals with them), and servers with {@code proxyRequired} or TLS from connect.</li>
 * <li><b>http</b>: an HTTP verb as a command ({@code GET}, {@code POST}, {@code CONNECT}, {@code HEAD}, {@code PUT}).</li>
 * <li><b>header</b>: a message header line as a command ({@code Subject: hi}, {@code From: ...}).</li>
 * </ul>
 * Actions: {@code tarpit} (the connection is tarpitted from then on), {@code refuse} (the refusal at once, then close),
 * {@code observe} (recorded as an observed listing, counted as "would have refused"; the client notices nothing, now or
 * when it returns). A sensor catches a connection once. Authenticated sessions are never caught by http/header.
 */
public class ProtocolSensorHandler implements ConnectHandler<SMTPSession>, UnknownHook, ExtensibleHandler {
    private static final Logger LOGGER = LoggerFactory.getLogger(ProtocolSensorHandler.class);
    static final String PREGREET = "pregreet";
    /** Connection state: a sensor caught this connection already. */
    static final AttachmentKey<String> CAUGHT = AttachmentKey.of("dev.spamtrap.sensorCaught", String.class);

    private final Spamtrap spamtrap;
    private final SpamtrapEvents events;
    private SensorSettings settings;
    private OffenderConnectHandler offenders;
    private volatile boolean warnedNoChannel;

    @Inject
    public ProtocolSensorHandler(Spamtrap spamtrap, SpamtrapEvents events) {
        this.spamtrap = spamtrap;
        this.events = events;
    }

    @Override
    public void init(Configuration config) throws ConfigurationException {
        try {
            settings = SensorSettings.from(config);
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            int colon = m.indexOf(':');
            throw SpamtrapHandlerSupport.badParameter(getClass(), colon > 0 ? m.substring(0, colon) : "?", m.substring(colon + 1).trim());
        }
        LOGGER.info("Protocol sensors: {}; listings last {}", settings, spamtrap.config().protocolLifetime());
    }

    // ---- pregreet ----

    @Override
    public Response onConnect(SMTPSession session) {
        if (!settings.pregreet().enabled() || !testsPregreet(session)) {
            return OffenderConnectHandler.NOTHING;
        }
        Optional<Channel> channel = TarpitChannels.of(session);
        if (channel.isEmpty() || channel.get().pipeline().get(HandlerConstants.FRAMER) == null) {
            if (!warnedNoChannel) {
                warnedNoChannel = true;
                LOGGER.error("Pregreet sensor unavailable: no Netty pipeline with a line framer behind this SMTP session; clients are not tested");
            }
            return OffenderConnectHandler.NOTHING;
        }
        InetAddress client = session.getRemoteAddress().getAddress();
        PregreetGate gate = new PregreetGate(PregreetGate.teaser(session.getConfiguration().getHelloName()), settings.pregreetWait().toNanos(),
            new PregreetGate.Sensor() {
                @Override
                public PregreetGate.Decision caught(byte[] firstBytes) {
                    return pregreetCaught(session, firstBytes != null ? new String(firstBytes, StandardCharsets.ISO_8859_1)
                        : session.getAttachment(SMTPSession.CURRENT_HELO_NAME, State.Connection).map(h -> "HELO " + h)
                            .orElse("a command answered before the greeting"));
                }

                @Override
                public void passed() {
                    spamtrap.rememberPregreetPass(client, settings.passLifetime());
                }
            }, null);
        channel.get().pipeline().addBefore(HandlerConstants.FRAMER, PregreetGate.NAME, gate);
        return OffenderConnectHandler.NOTHING;
    }

    /**
     * Whether this connection takes the pregreet test: not behind {@code proxyRequired} (at connect James knows only the
     * proxy) nor on TLS from connect, not exempt (relay-authorized, allowlisted, trusted relay), not listed already, and
     * not passed within the pass lifetime (here or on another node).
     */
    boolean testsPregreet(SMTPSession session) {
        if (SpamtrapHandlerSupport.isProxyRequired(session) || session.isTLSStarted() || Tarpit.isTarpitted(session)) {
            return false;
        }
        InetAddress client = session.getRemoteAddress().getAddress();
        return !SpamtrapHandlerSupport.isExempt(spamtrap, session)
            && spamtrap.activeListing(client).isEmpty() && !spamtrap.passedPregreet(client);
    }

    private PregreetGate.Decision pregreetCaught(SMTPSession session, String sent) {
        SMTPResponse refusal = caught(session, PREGREET, settings.pregreet(), sent);
        if (settings.pregreet().action() == SensorSettings.Action.OBSERVE) {
            return PregreetGate.Decision.observe();
        }
        return refusal == null ? PregreetGate.Decision.tarpit() : PregreetGate.Decision.refuse(OffenderConnectHandler.bytes(refusal));
    }

    // ---- non-SMTP commands ----

    @Override
    public HookResult doUnknown(SMTPSession session, String command) {
        String sensorName = CommandSensors.classify(command);
        SensorSettings.Sensor sensor = sensorName == null ? null : sensorName.equals(CommandSensors.HTTP) ? settings.http() : settings.header();
        if (sensor == null || !sensor.enabled() || session.getAttachment(CAUGHT, State.Connection).isPresent() || Tarpit.isTarpitted(session)) {
            return HookResult.DECLINED;
        }
        InetAddress client = session.getRemoteAddress().getAddress();
        if (SpamtrapHandlerSupport.isExempt(spamtrap, session)) {
            return HookResult.DECLINED;
        }
        SMTPResponse refusal = caught(session, sensorName, sensor, command);
        if (refusal == null) {
            return HookResult.DECLINED; // observed, or tarpitted: James's own reply follows (late, in the tarpit)
        }
        String code = refusal.getRetCode();
        return HookResult.builder()
            .hookReturnCode(HookReturnCode.disconnected(code.startsWith("4") ? HookReturnCode.Action.DENYSOFT : HookReturnCode.Action.DENY))
            .smtpReturnCode(code)
            .smtpDescription(String.valueOf(refusal.getLines().get(0)).substring(code.length() + 1))
            .build();
    }

    /**
     * Records the client for {@code sensorName} and applies the sensor's action: returns the refusal to send now, or null
     * (observed, or tarpitted from now on).
     */
    private SMTPResponse caught(SMTPSession session, String sensorName, SensorSettings.Sensor sensor, String sent) {
        session.setAttachment(CAUGHT, sensorName, State.Connection);
        InetAddress client = session.getRemoteAddress().getAddress();
        String ip = SpamtrapHandlerSupport.clientIp(session);
        String evidence = Evidence.clean(sent.length() > 64 ? sent.substring(0, 64) : sent);
        Cause cause = Cause.protocol(sensorName);
        SensorSettings.Action action = sensor.action();
        if (action == SensorSettings.Action.OBSERVE) {
            cause = cause.observed();
        }
        spamtrap.recordProtocol(client, cause, evidence);
        events.protocol(ip, sensorName, action.label(), evidence);
        LOGGER.info("Protocol sensor {} caught {} ({}): sent '{}'", sensorName, ip, action.label(), evidence);
        switch (action) {
            case OBSERVE:
                return null;
            case TARPIT:
                return offenders.protocolOffence(session, cause, true);
            default:
                return offenders.protocolOffence(session, cause, false);
        }
    }

    @Override
    public List<Class<?>> getMarkerInterfaces() {
        return List.of(ConnectHandler.class);
    }

    /** The sensors act through {@link OffenderConnectHandler} (its refusal and tarpit). */
    @Override
    public void wireExtensions(Class<?> marker, List<?> extensions) throws WiringException {
        if (marker == ConnectHandler.class) {
            for (Object e : extensions) {
                if (e instanceof OffenderConnectHandler) {
                    offenders = (OffenderConnectHandler) e;
                }
            }
            if (offenders == null) {
                throw new WiringException("smtpserver.xml: handler " + getClass().getName() + " needs " + OffenderConnectHandler.class.getName()
                    + " in the same <handlerchain>: add <handler class=\"" + OffenderConnectHandler.class.getName()
                    + "\"/> (its mode, refusal text and tarpit apply to the clients the sensors catch)");
            }
        }
    }

    SensorSettings settings() {
        return settings;
    }
}
