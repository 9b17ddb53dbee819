package dev.spamtrap.smtp;

import dev.spamtrap.core.net.IpAddresses;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.runtime.Spamtrap;
import org.apache.commons.configuration2.Configuration;
import org.apache.commons.configuration2.ex.ConfigurationException;
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

    /** The node's one runtime ({@code dev.spamtrap.webadmin.SpamtrapModule}). */
    @Inject
    public TrappedMessageHook(Spamtrap spamtrap) {
        this.spamtrap = spamtrap;
    }

    @Override
    public void init(Configuration config) throws ConfigurationException {
        SpamtrapHandlerSupport.checkNoOwnConfiguration(config, getClass());
    }

    @Override
    public HookResult onMessage(SMTPSession session, Mail mail) {
        Optional<String> trapped = session.getAttachment(SpamtrapSessionKeys.TRAPPED, State.Connection);
        Optional<RelayedTrap> relayed = session.getAttachment(SpamtrapSessionKeys.RELAYED_TRAP, State.Transaction);
        relayed.ifPresent(r -> recordRelayed(session, mail, r));
        Optional<String> trap = trapped.or(() -> relayed.map(RelayedTrap::trap));
        trap.ifPresent(t -> mail.setAttribute(new Attribute(AttributeName.of(SpamtrapSessionKeys.MAIL_ATTRIBUTE), AttributeValue.of(t))));
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
        if (spamtrap.isAllowlisted(client)) {
            return;
        }
        String ip = IpAddresses.canonical(client);
        LOGGER.info("Trap <{}> relayed by trusted relay {}: offender is {}", relayed.trap(), IpAddresses.canonical(relay), ip);
        spamtrap.recordHit(new TrapHit(spamtrap.config().nodeName() + "/" + session.getSessionID() + "/" + ip, spamtrap.offenderKey(client), ip,
            spamtrap.clock().instant(), relayed.trap(), origin.helo, relayed.mailFrom(), spamtrap.config().nodeName()));
    }
}
