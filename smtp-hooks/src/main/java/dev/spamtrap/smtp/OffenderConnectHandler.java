package dev.spamtrap.smtp;

import dev.spamtrap.core.config.Durations;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.runtime.Spamtrap;
import dev.spamtrap.core.runtime.SpamtrapRegistry;
import org.apache.commons.configuration2.Configuration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.ConnectHandler;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.inject.Inject;
import java.util.List;
import java.util.Optional;

/**
 * Refuses a new connection from an active offender before the greeting, and closes it. The check is a
 * lookup in the node's in-memory offender view: no Cassandra round trip, no waiting.
 *
 * <pre>{@code
 * <handler class="dev.spamtrap.smtp.OffenderConnectHandler">
 *   <refuseCode>450</refuseCode>   <!-- 450 (default, spamd-like) or 550 -->
 *   <refuseText>Your address %A has sent mail to a spamtrap on this server within the last %L</refuseText>
 * </handler>
 * }</pre>
 * {@code %A} is the client's address, {@code %L} the configured offender lifetime. The text never names a trap.
 */
public class OffenderConnectHandler implements ConnectHandler<SMTPSession> {
    private static final Logger LOGGER = LoggerFactory.getLogger(OffenderConnectHandler.class);
    static final String DEFAULT_TEXT = "Your address %A has sent mail to a spamtrap on this server within the last %L";

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

    private final FileSystem fileSystem;
    private Spamtrap spamtrap;
    private String code = "450";
    private String text = DEFAULT_TEXT;

    @Inject
    public OffenderConnectHandler(FileSystem fileSystem) {
        this.fileSystem = fileSystem;
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
        spamtrap = SpamtrapHandlerSupport.acquire(fileSystem, config, getClass());
    }

    @Override
    public void destroy() {
        if (spamtrap != null) {
            SpamtrapRegistry.release(spamtrap);
            spamtrap = null;
        }
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
        LOGGER.info("Refusing connection from offender {} (listed until {})", ip, offender.get().expiresAt());
        return refusal(ip);
    }

    SMTPResponse refusal(String ip) {
        String dsn = code.equals("450") ? "4.7.1" : "5.7.1";
        SMTPResponse response = new SMTPResponse(code, dsn + " " + expand(text, ip));
        response.setEndSession(true);
        return response;
    }

    String expand(String template, String ip) {
        return template.replace("%A", ip).replace("%L", Durations.human(spamtrap.config().policy().lifetime()));
    }
}
