package dev.spamtrap.smtp;

import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.smtpserver.JamesMessageHook;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;

/**
 * Marks a message whose transaction hit a trap with the Mail attribute {@code dev.spamtrap.trapped}
 * (the trap address), so the {@code IsTrapped} matcher can send it to quarantine instead of to anyone.
 *
 * <pre>{@code <handler class="dev.spamtrap.smtp.TrappedMessageHook"/>}</pre>
 */
public class TrappedMessageHook implements JamesMessageHook {
    @Override
    public HookResult onMessage(SMTPSession session, Mail mail) {
        session.getAttachment(SpamtrapSessionKeys.TRAPPED, State.Transaction).ifPresent(trap ->
            mail.setAttribute(new Attribute(AttributeName.of(SpamtrapSessionKeys.MAIL_ATTRIBUTE), AttributeValue.of(trap))));
        return HookResult.DECLINED;
    }
}
