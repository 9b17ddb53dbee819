package dev.spamtrap.agent.server;

import dev.spamtrap.agent.apply.Applier;
import dev.spamtrap.agent.apply.Outcome;
import dev.spamtrap.agent.net.Prefix;
import dev.spamtrap.agent.safety.SafetyRails;
import dev.spamtrap.core.firewall.FirewallCommand;
import dev.spamtrap.core.firewall.MessageCodec;
import dev.spamtrap.core.firewall.MessageException;
import dev.spamtrap.core.firewall.SignedMessage;
import dev.spamtrap.core.firewall.WireFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Turns received messages into firewall changes, or refusals. The order of checks: size and grammar, signature,
 * the agent it names (the endpoint it arrived on), freshness, nonce — each for the message whole, which is
 * refused whole ({@code ERR <nonce|-> <reason>}) if one fails; then for each of its commands the address and
 * the safety rails, a command failing them refused alone ({@code ERR <nonce>/<i> <reason>}); only then do the
 * others reach the applier (where the circuit breaker sits), together. The message is answered once every command
 * has its outcome: the refusals, then {@code OK <nonce> <applied> of <count> applied} (for a lone command applied,
 * followed by {@code : <what happened>}). Every refusal is logged
 * with the peer and the reason; nothing is applied for it.
 */
public final class CommandProcessor {
    private static final Logger LOGGER = LoggerFactory.getLogger(CommandProcessor.class);

    private final MessageCodec codec;
    private final ReplayGuard guard;
    private final SafetyRails rails;
    private final Applier applier;

    public CommandProcessor(MessageCodec codec, ReplayGuard guard, SafetyRails rails, Applier applier) {
        this.codec = codec;
        this.guard = guard;
        this.rails = rails;
        this.applier = applier;
    }

    /**
     * The reader of one connection.
     *
     * @param endpoint the endpoint the connection arrived on, as James names it ({@code tcp:127.0.0.1:7625}); messages must name it
     */
    public Session session(String peer, String endpoint) {
        return new Session(codec.decoder(), peer, endpoint);
    }

    /** One connection's messages, read line by line. Not thread-safe: the connection's reader thread only. */
    public final class Session {
        private final MessageCodec.Decoder decoder;
        private final String peer;
        private final String endpoint;
        private int lastCount;

        private Session(MessageCodec.Decoder decoder, String peer, String endpoint) {
            this.decoder = decoder;
            this.peer = peer;
            this.endpoint = endpoint;
        }

        /**
         * One received line, without its newline.
         *
         * @return the reply (its lines without the last newline) to the message this line completes, once every
         * command has its outcome; null while the message is incomplete
         */
        public CompletableFuture<String> line(byte[] buf, int from, int to) {
            SignedMessage m;
            try {
                m = decoder.line(buf, from, to);
                if (m == null) {
                    return null;
                }
                lastCount = m.commands().size();
                if (!m.agent().equals(endpoint)) {
                    throw new MessageException(MessageException.Kind.WRONG_AGENT, "message signed for agent '" + WireFormat.printable(m.agent())
                        + "', this is " + endpoint + " (replayed from another agent, or firewall.agent names this one differently)");
                }
                guard.check(m);
            } catch (MessageException e) {
                lastCount = 1;
                return refuse(peer, decoder.nonce(), e.kind().name().toLowerCase().replace('_', ' '), e.getMessage());
            }
            return handle(m, peer);
        }

        /** Commands in the message last completed (1 for one refused whole). */
        public int lastCount() {
            return lastCount;
        }

        /** Whether the reader lost track of where the next message starts (after a bad header or HMAC line): the connection must close. */
        public boolean lost() {
            return !decoder.inStep();
        }
    }

    private CompletableFuture<String> handle(SignedMessage m, String peer) {
        List<FirewallCommand> commands = m.commands();
        int n = commands.size();
        String[] refusals = new String[n];
        Prefix[] prefixes = new Prefix[n];
        List<Applier.Request> requests = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            FirewallCommand c = commands.get(i);
            Prefix prefix;
            try {
                prefix = Prefix.parse(c.target());
            } catch (IllegalArgumentException e) {
                refusals[i] = refused(peer, c, "malformed", "malformed address or prefix: " + e.getMessage());
                continue;
            }
            prefixes[i] = prefix;
            boolean block = c.action() == FirewallCommand.Action.BLOCK;
            if (block) {
                Optional<String> why = rails.refusal(prefix);
                if (why.isPresent()) {
                    refusals[i] = refused(peer, c, "protected", why.get());
                    continue;
                }
            }
            requests.add(new Applier.Request(block ? Applier.Action.BLOCK : Applier.Action.UNBLOCK, prefix, c.ttlSeconds()));
        }
        if (requests.isEmpty()) {
            return CompletableFuture.completedFuture(reply(peer, m, prefixes, refusals, List.of()));
        }
        return applier.submitAll(requests, peer).thenApply(outcomes -> reply(peer, m, prefixes, refusals, outcomes));
    }

    private static String refused(String peer, FirewallCommand c, String kind, String reason) {
        LOGGER.warn("REFUSED {} {} from {} ({}): {}; not applied", c.action(), WireFormat.printable(c.target()), peer, kind, reason);
        return reason;
    }

    /** The refusals ({@code ERR <nonce>/<i> <reason>}), then {@code OK <nonce> <applied> of <count> applied[: <what a lone command did>]}. */
    private static String reply(String peer, SignedMessage m, Prefix[] prefixes, String[] refusals, List<Outcome> outcomes) {
        StringBuilder b = new StringBuilder(64);
        int applied = 0;
        int next = 0;
        boolean info = LOGGER.isInfoEnabled();
        for (int i = 0; i < refusals.length; i++) {
            if (refusals[i] == null) {
                Outcome o = outcomes.get(next++);
                FirewallCommand c = m.commands().get(i);
                if (o.isApplied()) {
                    applied++;
                    if (info) {
                        LOGGER.info("{} {} from {}: {}", c.action(), prefixes[i], peer, o.detail());
                    }
                    continue;
                }
                LOGGER.warn("REFUSED {} {} from {}: {}", c.action(), prefixes[i], peer, o.detail());
                refusals[i] = o.detail();
            }
            b.append("ERR ").append(m.nonce()).append('/').append(i + 1).append(' ').append(refusals[i].replace('\n', ' ')).append('\n');
        }
        b.append("OK ").append(m.nonce()).append(' ').append(applied).append(" of ").append(refusals.length).append(" applied");
        if (refusals.length == 1 && applied == 1) {
            b.append(": ").append(outcomes.get(0).detail().replace('\n', ' ')); // a lone command (the usual case at real rates) says what it did
        }
        return b.toString();
    }

    static CompletableFuture<String> refuse(String peer, String nonce, String kind, String reason) {
        LOGGER.warn("REFUSED message from {} ({}): {}; nothing applied", peer, kind, reason);
        return CompletableFuture.completedFuture("ERR " + nonce + " " + reason.replace('\n', ' '));
    }
}
