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

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Turns one received line into a firewall change, or a refusal. The order of checks: size and grammar,
 * signature, the agent it names (the endpoint it arrived on), freshness, nonce, address, safety rails; only then does the command reach the applier (where
 * the circuit breaker sits). Every refusal is logged with the peer and the reason, and answered
 * {@code ERR <nonce|-> <reason>}; nothing is applied for it.
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
     * The reply line (without newline) once the command is applied or refused.
     *
     * @param endpoint the endpoint the line arrived on, as James names it ({@code tcp:127.0.0.1:7625}); the message must name it
     */
    public CompletableFuture<String> handle(String line, String peer, String endpoint) {
        SignedMessage m;
        try {
            m = codec.decode(line);
            if (!m.agent().equals(endpoint)) {
                throw new MessageException(MessageException.Kind.WRONG_AGENT, "message signed for agent '" + WireFormat.printable(m.agent())
                    + "', this is " + endpoint + " (replayed from another agent, or firewall.agent names this one differently)");
            }
            guard.check(m);
        } catch (MessageException e) {
            return refuse(peer, nonceOf(line), e.kind().name().toLowerCase().replace('_', ' '), e.getMessage());
        }
        FirewallCommand c = m.command();
        Prefix prefix;
        try {
            prefix = Prefix.parse(c.target());
        } catch (IllegalArgumentException e) {
            return refuse(peer, m.nonce(), "malformed", "malformed address or prefix: " + e.getMessage());
        }
        if (c.action() == FirewallCommand.Action.BLOCK) {
            Optional<String> why = rails.refusal(prefix);
            if (why.isPresent()) {
                return refuse(peer, m.nonce(), "protected", why.get());
            }
        }
        Applier.Action action = c.action() == FirewallCommand.Action.BLOCK ? Applier.Action.BLOCK : Applier.Action.UNBLOCK;
        return applier.submit(action, prefix, c.ttlSeconds(), peer).thenApply(o -> reply(peer, m, prefix, o));
    }

    private static String reply(String peer, SignedMessage m, Prefix prefix, Outcome o) {
        String what = m.command().action() + " " + prefix;
        if (o.isApplied()) {
            LOGGER.info("{} from {}: {}", what, peer, o.detail());
            return "OK " + m.nonce() + " " + o.detail();
        }
        LOGGER.warn("REFUSED {} from {}: {}", what, peer, o.detail());
        return "ERR " + m.nonce() + " " + o.detail();
    }

    static CompletableFuture<String> refuse(String peer, String nonce, String kind, String reason) {
        LOGGER.warn("REFUSED message from {} ({}): {}; nothing applied", peer, kind, reason);
        return CompletableFuture.completedFuture("ERR " + nonce + " " + reason);
    }

    /** The nonce field of a line for the reply, if it looks like one; "-" otherwise. */
    static String nonceOf(String line) {
        String[] f = line.split(" ", 5);
        if (f.length >= 4 && f[3].matches("[0-9a-f]{" + WireFormat.NONCE_HEX + "}")) {
            return f[3];
        }
        return "-";
    }
}
