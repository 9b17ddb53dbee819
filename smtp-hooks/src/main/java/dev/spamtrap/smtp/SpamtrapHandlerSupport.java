package dev.spamtrap.smtp;

import dev.spamtrap.core.net.IpAddresses;
import dev.spamtrap.core.runtime.Spamtrap;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.james.protocols.api.ProtocolSessionImpl;
import org.apache.james.protocols.smtp.SMTPSession;

import java.net.InetAddress;

/**
 * What every spamtrap handler shares: the exemption rule and error messages naming the parameter. (The node
 * has one runtime, provided by {@code dev.spamtrap.james.SpamtrapModule} from {@code conf/spamtrap.properties}.)
 */
final class SpamtrapHandlerSupport {
    private SpamtrapHandlerSupport() {
    }

    static ConfigurationException badParameter(Class<?> handler, String key, String reason) {
        return new ConfigurationException("smtpserver.xml: handler " + handler.getName() + ": parameter '" + key + "': " + reason);
    }

    /**
     * Authenticated sessions, relay-authorized networks and allowlisted ranges are never recorded nor refused.
     * Relaying is judged on the client's own address: James 3.8.1 computes {@code isRelayingAllowed()} from the
     * PROXY's address, while {@code getRemoteAddress()} is the one the PROXY header gave.
     */
    static boolean isExempt(Spamtrap spamtrap, SMTPSession session) {
        if (session.getUsername() != null) {
            return true;
        }
        InetAddress client = session.getRemoteAddress().getAddress();
        return session.getConfiguration().isRelayingAllowed(client.getHostAddress()) || spamtrap.isAllowlisted(client)
            || spamtrap.config().trustedRelays().contains(client);
    }

    /** Whether this server reads a PROXY header: then the client's address is known only after connect. */
    static boolean isProxyRequired(SMTPSession session) {
        if (session instanceof ProtocolSessionImpl) {
            return ((ProtocolSessionImpl) session).getProtocolTransport().isProxyRequired();
        }
        return false;
    }

    static String clientIp(SMTPSession session) {
        return IpAddresses.canonical(session.getRemoteAddress().getAddress());
    }
}
