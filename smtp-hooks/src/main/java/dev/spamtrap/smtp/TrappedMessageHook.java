package dev.spamtrap.smtp;

import dev.spamtrap.core.trap.TrappedMailAttributes;
import dev.spamtrap.core.metrics.SpamtrapEvents;
import dev.spamtrap.core.net.IpAddresses;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.runtime.Spamtrap;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.smtpserver.JamesMessageHook;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.inject.Inject;
import javax.mail.MessagingException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * At the end of DATA, marks a message from a trapped connection with the Mail attribute
 * {@code dev.spamtrap.trapped} (the trap address), so the {@code IsTrapped} matcher sends it to quarantine
 * instead of to anyone. It must be the first message hook; James refuses to start otherwise.
 *
 * <p>For a trap recipient passed on by a trusted relay it also records the hit, against the client named in
 * the {@code Received:} header the relay added (see {@link ReceivedChain}). A chain it cannot read is logged
 * and recorded against nobody; the relay itself is never recorded.
 *
 * <pre>{@code <handler class="dev.spamtrap.smtp.TrappedMessageHook"/>}</pre>
 */
public class TrappedMessageHook implements JamesMessageHook {
    private static final Logger LOGGER = LoggerFactory.getLogger(TrappedMessageHook.class);

    private final Spamtrap spamtrap;
    private final SpamtrapEvents events;

    /** The node's one runtime and events ({@code dev.spamtrap.james.SpamtrapModule}). */
    @Inject
    public TrappedMessageHook(Spamtrap spamtrap, SpamtrapEvents events) {
        this.spamtrap = spamtrap;
        this.events = events;
    }

    @Override
    public HookResult onMessage(SMTPSession session, Mail mail) {
        Optional<String> trapped = session.getAttachment(SpamtrapSessionKeys.TRAPPED, State.Connection);
        Optional<RelayedTrap> relayed = session.getAttachment(SpamtrapSessionKeys.RELAYED_TRAP, State.Transaction);
        relayed.ifPresent(r -> recordRelayed(session, mail, r));
        Optional<String> trap = trapped
            .or(() -> session.getAttachment(SpamtrapSessionKeys.TRAPPED_TRANSACTION, State.Transaction))
            .or(() -> relayed.map(RelayedTrap::trap));
        if (trap.isPresent()) {
            mail.setAttribute(new Attribute(AttributeName.of(TrappedMailAttributes.TRAPPED), AttributeValue.of(trap.get())));
            return HookResult.DECLINED;
        }
        // an exempt client's trap copies only: its other recipients get the message
        session.getAttachment(SpamtrapSessionKeys.TRAPPED_RECIPIENTS, State.Transaction).ifPresent(r -> {
            List<AttributeValue<?>> addresses = new ArrayList<>();
            r.addresses.forEach(a -> addresses.add(AttributeValue.of(a)));
            mail.setAttribute(new Attribute(AttributeName.of(TrappedMailAttributes.TRAPPED_RECIPIENTS), AttributeValue.of(addresses)));
        });
        return HookResult.DECLINED;
    }

    private void recordRelayed(SMTPSession session, Mail mail, RelayedTrap relayed) {
        InetAddress relay = session.getRemoteAddress().getAddress();
        ReceivedChain.Origin origin;
        try {
            origin = ReceivedChain.originOf(mail.getMessage().getHeader("Received"), relay, relayed.trustedRelays());
        } catch (MessagingException | RuntimeException e) {
            LOGGER.warn("Trap <{}> relayed by trusted relay {}: headers unreadable ({}); recorded against nobody",
                relayed.trap(), IpAddresses.canonical(relay), e.toString());
            return;
        }
        if (origin.client().isEmpty()) {
            LOGGER.warn("Trap <{}> relayed by trusted relay {}: Received: chain unreadable ({}); recorded against nobody",
                relayed.trap(), IpAddresses.canonical(relay), origin.problem);
            return;
        }
        InetAddress client = origin.client().get();
        String ip = IpAddresses.canonical(client);
        String relayIp = IpAddresses.canonical(relay);
        if (spamtrap.isAllowlisted(client)) {
            events.exemptHit(ip, "allowlisted", null, relayed.trap(), relayed.mailFrom());
            return;
        }
        if (relayed.backscatter()) {
            events.backscatter(ip, relayed.trap(), origin.helo);
            return;
        }
        spamtrap.recordHit(new TrapHit(spamtrap.config().nodeName() + "/" + session.getSessionID() + "/" + ip, spamtrap.offenderKey(client), ip,
            spamtrap.clock().instant(), relayed.trap(), origin.helo, relayed.mailFrom(), spamtrap.config().nodeName()));
        events.hit(ip, relayed.trap(), relayed.trapKind(), origin.helo, relayed.mailFrom(), "relay=" + relayIp);
    }
}
