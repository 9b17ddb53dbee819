package dev.spamtrap.smtp;

import dev.spamtrap.core.config.ConfigException;
import dev.spamtrap.core.net.IpAddresses;
import dev.spamtrap.core.runtime.Spamtrap;
import dev.spamtrap.core.runtime.SpamtrapRegistry;
import org.apache.commons.configuration2.Configuration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.protocols.api.ProtocolSessionImpl;
import org.apache.james.protocols.smtp.SMTPSession;

import java.io.File;
import java.net.InetAddress;
import java.nio.file.Path;

/**
 * What every spamtrap handler does in {@code init}: find {@code spamtrap.properties} (handler parameter
 * {@code spamtrapConfiguration}, default {@code file://conf/spamtrap.properties}) and share the node's
 * {@link Spamtrap}; and the exemption rule they all apply.
 */
final class SpamtrapHandlerSupport {
    static final String CONFIG_PARAMETER = "spamtrapConfiguration";
    static final String DEFAULT_CONFIG = "file://conf/spamtrap.properties";

    private SpamtrapHandlerSupport() {
    }

    static Spamtrap acquire(FileSystem fileSystem, Configuration config, Class<?> handler) throws ConfigurationException {
        String location = config.getString(CONFIG_PARAMETER, DEFAULT_CONFIG);
        File file;
        try {
            file = fileSystem.getFile(location);
        } catch (Exception e) {
            throw new ConfigurationException("smtpserver.xml: handler " + handler.getName() + ": parameter '" + CONFIG_PARAMETER
                + "': cannot resolve '" + location + "': " + e.getMessage(), e);
        }
        if (!file.isFile()) {
            throw new ConfigurationException("smtpserver.xml: handler " + handler.getName() + ": parameter '" + CONFIG_PARAMETER
                + "': file '" + file + "' does not exist");
        }
        try {
            return SpamtrapRegistry.acquire(Path.of(file.getPath()));
        } catch (ConfigException e) {
            throw new ConfigurationException(e.getMessage(), e);
        }
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
        return session.getConfiguration().isRelayingAllowed(client.getHostAddress()) || spamtrap.isAllowlisted(client);
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
