package dev.spamtrap.smtp.tarpit;

import io.netty.channel.Channel;
import org.apache.james.metrics.api.GaugeRegistry;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSession.AttachmentKey;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.netty.HandlerConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.util.Optional;

/**
 * The tarpit of one SMTP server: its settings, its capacity and the node's counters. {@link #enter} puts a
 * connection in it (or says why not); the connection's {@link TarpitGate} then delays every reply.
 */
public final class Tarpit {
    private static final Logger LOGGER = LoggerFactory.getLogger(Tarpit.class);

    /** Set (connection state) on a session that is in the tarpit. */
    public static final AttachmentKey<Boolean> SESSION_KEY = AttachmentKey.of("dev.spamtrap.tarpit", Boolean.class);

    public enum Outcome { TARPITTED, FULL, UNAVAILABLE }

    private final TarpitSettings settings;
    private final TarpitCapacity capacity;
    private final TarpitCounters counters;

    public Tarpit(TarpitSettings settings, MetricFactory metricFactory, GaugeRegistry gauges) {
        this.settings = settings;
        this.capacity = new TarpitCapacity(settings.maxConnections(), settings.maxConnectionsPerClient());
        this.counters = new TarpitCounters(metricFactory, gauges);
    }

    public TarpitSettings settings() {
        return settings;
    }

    public TarpitCapacity capacity() {
        return capacity;
    }

    public static boolean isTarpitted(ProtocolSession session) {
        return session.getAttachment(SESSION_KEY, State.Connection).orElse(false);
    }

    /**
     * Called from the connect handler, on the connection's event loop, before James's greeting is written.
     *
     * @param expiryReply the refusal line (with CRLF) for when {@code maxDuration} is reached
     */
    public Outcome enter(ProtocolSession session, byte[] expiryReply) {
        Optional<Channel> channel = TarpitChannels.of(session);
        if (channel.isEmpty()) {
            return Outcome.UNAVAILABLE;
        }
        InetAddress client = session.getRemoteAddress().getAddress();
        TarpitCapacity.Admission admission = capacity.tryAcquire(client);
        if (admission.ticket().isEmpty()) {
            counters.refusedFull();
            LOGGER.info("Tarpit full ({}): refusing offender {} at once ({} tarpitted on this server, {} from this client)",
                admission.refusal() == TarpitCapacity.Refusal.NODE_FULL ? "maxConnections " + settings.maxConnections()
                    : "maxConnectionsPerClient " + settings.maxConnectionsPerClient(),
                client.getHostAddress(), capacity.total(), capacity.ofClient(client));
            return Outcome.FULL;
        }
        TarpitCapacity.Ticket ticket = admission.ticket().get();
        String ip = client.getHostAddress();
        counters.admitted();
        TarpitGate gate = new TarpitGate(settings, expiryReply, heldMillis -> {
            capacity.release(ticket);
            counters.released(heldMillis);
            LOGGER.debug("Tarpit released {} after {} ms", ip, heldMillis);
        }, null);
        try {
            channel.get().pipeline().addBefore(HandlerConstants.CORE_HANDLER, TarpitGate.NAME, gate);
        } catch (RuntimeException e) {
            // not added: the gate never saw handlerAdded, so nothing else gives the place back
            capacity.release(ticket);
            counters.released(0);
            LOGGER.warn("Could not tarpit {} ({}); refusing at once", ip, e.toString());
            return Outcome.UNAVAILABLE;
        }
        session.setAttachment(SESSION_KEY, Boolean.TRUE, State.Connection);
        return Outcome.TARPITTED;
    }
}
