package dev.spamtrap.smtp;

import dev.spamtrap.core.metrics.SpamtrapEvents;
import dev.spamtrap.core.offender.TrapHit;
import dev.spamtrap.core.runtime.Spamtrap;
import dev.spamtrap.core.trap.TrapEntry;
import org.apache.commons.configuration2.Configuration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.handler.ProtocolHandler;
import org.apache.james.protocols.smtp.SMTPRetCode;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.dsn.DSNStatus;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.RcptHook;

import javax.inject.Inject;
import java.util.Locale;
import java.util.Optional;

/**
 * Detects trap recipients at RCPT time and records the client as an offender (without waiting on the
 * store). List it in {@code smtpserver.xml} <b>before</b> {@code ValidRcptHandler}, or the trap gets
 * "unknown user" first:
 *
 * <pre>{@code
 * <handlerchain>
 *   <handler class="dev.spamtrap.smtp.OffenderConnectHandler"/>
 *   <handler class="dev.spamtrap.smtp.TrapRcptHook">
 *     <mode>accept</mode>   <!-- accept (default) or reject -->
 *   </handler>
 *   <handler class="dev.spamtrap.smtp.TrappedMessageHook"/>
 *   <handler class="org.apache.james.smtpserver.fastfail.ValidRcptHandler"/>
 *   ...
 * }</pre>
 *
 * <ul>
 * <li>{@code accept}: the trap gets the same {@code 250} as a real mailbox. The transaction is marked
 * trapped: every later recipient is accepted too, and the message goes to quarantine instead of to any
 * recipient (see the {@code IsTrapped} matcher and {@code Quarantine} mailet).</li>
 * <li>{@code reject}: the reply is exactly James's unknown-user reply.</li>
 * </ul>
 * Authenticated clients, relay-authorized networks and allowlisted ranges are never recorded.
 */
public class TrapRcptHook implements RcptHook, ProtocolHandler {
    public enum Mode { ACCEPT, REJECT }

    private final Spamtrap spamtrap;
    private final SpamtrapEvents events;
    private Mode mode = Mode.ACCEPT;

    /** Both come from the node's one runtime ({@code dev.spamtrap.webadmin.SpamtrapModule}). */
    @Inject
    public TrapRcptHook(Spamtrap spamtrap, SpamtrapEvents events) {
        this.spamtrap = spamtrap;
        this.events = events;
    }

    @Override
    public void init(Configuration config) throws ConfigurationException {
        String m = config.getString("mode", "accept").trim().toLowerCase(Locale.ROOT);
        switch (m) {
            case "accept": mode = Mode.ACCEPT; break;
            case "reject": mode = Mode.REJECT; break;
            default: throw SpamtrapHandlerSupport.badParameter(getClass(), "mode", "'" + m + "' is not one of accept, reject");
        }
        SpamtrapHandlerSupport.checkNoOwnConfiguration(config, getClass());
    }

    @Override
    public HookResult doRcpt(SMTPSession session, MaybeSender sender, MailAddress rcpt) {
        if (mode == Mode.ACCEPT && session.getAttachment(SpamtrapSessionKeys.TRAPPED, State.Transaction).isPresent()) {
            // Already trapped: accept everything so the message reaches quarantine and no real user.
            return HookResult.OK;
        }
        Optional<TrapEntry> trap = spamtrap.trapFor(rcpt.asString());
        if (trap.isEmpty() || SpamtrapHandlerSupport.isExempt(spamtrap, session)) {
            return HookResult.DECLINED;
        }
        String helo = session.getAttachment(SMTPSession.CURRENT_HELO_NAME, State.Connection).orElse("");
        spamtrap.recordHit(new TrapHit(spamtrap.offenderKey(session.getRemoteAddress().getAddress()), spamtrap.clock().instant(),
            rcpt.asString().toLowerCase(Locale.ROOT), helo, sender.asString(""), spamtrap.config().nodeName()));
        events.hit(SpamtrapHandlerSupport.clientIp(session), rcpt.asString(), trap.get().kind().name(), helo, sender.asString(""));
        if (mode == Mode.REJECT) {
            return unknownUser(rcpt);
        }
        session.setAttachment(SpamtrapSessionKeys.TRAPPED, rcpt.asString(), State.Transaction);
        return HookResult.OK;
    }

    /** Built exactly as James's AbstractValidRcptHandler builds its unknown-user reply, so the two cannot be told apart. */
    static HookResult unknownUser(MailAddress rcpt) {
        return HookResult.builder()
            .hookReturnCode(HookReturnCode.deny())
            .smtpReturnCode(SMTPRetCode.MAILBOX_PERM_UNAVAILABLE)
            .smtpDescription(DSNStatus.getStatus(DSNStatus.PERMANENT, DSNStatus.ADDRESS_MAILBOX) + " Unknown user: " + rcpt.asString())
            .build();
    }

    Mode mode() {
        return mode;
    }
}
