package dev.spamtrap.smtp.tarpit;

import io.netty.channel.Channel;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSessionImpl;
import org.apache.james.protocols.api.ProtocolTransport;
import org.apache.james.protocols.netty.NettyProtocolTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.util.Optional;

/**
 * Finds the Netty channel behind a James 3.8.1 SMTP session. James keeps it in the private field
 * {@code NettyProtocolTransport.channel} and offers no getter; the tarpit needs it to put its gate in the
 * connection's pipeline. If a later James renames the field, tarpitting is unavailable and offenders are
 * refused at once instead (logged once).
 */
public final class TarpitChannels {
    private static final Logger LOGGER = LoggerFactory.getLogger(TarpitChannels.class);
    private static final Field CHANNEL = channelField();
    private static volatile boolean warned;

    private TarpitChannels() {
    }

    private static Field channelField() {
        try {
            Field f = NettyProtocolTransport.class.getDeclaredField("channel");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOGGER.error("Tarpit unavailable: cannot reach the Netty channel of an SMTP session ({}); offenders are refused at once", e.toString());
            return null;
        }
    }

    public static Optional<Channel> of(ProtocolSession session) {
        if (CHANNEL == null || !(session instanceof ProtocolSessionImpl)) {
            return Optional.empty();
        }
        ProtocolTransport transport = ((ProtocolSessionImpl) session).getProtocolTransport();
        if (!(transport instanceof NettyProtocolTransport)) {
            if (!warned) {
                warned = true;
                LOGGER.error("Tarpit unavailable: SMTP transport is {}, not Netty; offenders are refused at once", transport.getClass().getName());
            }
            return Optional.empty();
        }
        try {
            return Optional.ofNullable((Channel) CHANNEL.get(transport));
        } catch (IllegalAccessException e) {
            return Optional.empty();
        }
    }
}
