package dev.spamtrap.smtp;

import dev.spamtrap.core.net.IpAddresses;
import dev.spamtrap.core.runtime.Spamtrap;
import org.apache.commons.configuration2.Configuration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.james.protocols.smtp.SMTPSession;

import java.net.InetAddress;

/**
 * What every spamtrap handler shares: the exemption rule, error messages naming the parameter, and a
 * check that no handler still asks for its own configuration file (the node has one runtime, provided by
 * {@code dev.spamtrap.webadmin.SpamtrapModule} from {@code conf/spamtrap.properties}).
 */
final class SpamtrapHandlerSupport {
    static final String CONFIG_PARAMETER = "spamtrapConfiguration";
    static final String DEFAULT_CONFIG = "file://conf/spamtrap.properties";

    private SpamtrapHandlerSupport() {
    }

    /** A handler-level file would silently be ignored: refuse anything but the one the node uses. */
    static void checkNoOwnConfiguration(Configuration config, Class<?> handler) throws ConfigurationException {
        String location = config.getString(CONFIG_PARAMETER, DEFAULT_CONFIG).trim();
        if (!location.equals(DEFAULT_CONFIG)) {
            throw badParameter(handler, CONFIG_PARAMETER, "'" + location + "' is not supported: the whole server shares one runtime read from "
                + DEFAULT_CONFIG);
        }
    }

    static ConfigurationException badParameter(Class<?> handler, String key, String reason) {
        return new ConfigurationException("smtpserver.xml: handler " + handler.getName() + ": parameter '" + key + "': " + reason);
    }

    /** Authenticated sessions, relay-authorized networks and allowlisted ranges are never recorded nor refused. */
    static boolean isExempt(Spamtrap spamtrap, SMTPSession session) {
        if (session.getUsername() != null || session.isRelayingAllowed()) {
            return true;
        }
        InetAddress client = session.getRemoteAddress().getAddress();
        return spamtrap.isAllowlisted(client);
    }

    static String clientIp(SMTPSession session) {
        return IpAddresses.canonical(session.getRemoteAddress().getAddress());
    }
}
