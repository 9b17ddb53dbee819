package dev.spamtrap.mailets;

import org.apache.james.core.MailAddress;
import org.apache.mailet.AttributeName;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMatcher;

import java.util.Collection;
import java.util.List;

/**
 * Matches every recipient of a message sent on an SMTP connection that hit a spamtrap, or relayed with a
 * trap recipient by a trusted relay (marked by {@code dev.spamtrap.smtp.TrappedMessageHook}). It must be
 * first in the root processor, so that no co-recipient of a trap ever receives the message; the SMTP hooks
 * refuse to start James otherwise:
 *
 * <pre>{@code
 * <mailet match="dev.spamtrap.mailets.IsTrapped" class="dev.spamtrap.mailets.Quarantine">
 *   <repositoryPath>memory://var/mail/spamtrap/</repositoryPath>
 * </mailet>
 * }</pre>
 */
public class IsTrapped extends GenericMatcher {
    static final AttributeName TRAPPED = AttributeName.of("dev.spamtrap.trapped");

    @Override
    public Collection<MailAddress> match(Mail mail) {
        if (mail.getAttribute(TRAPPED).isPresent()) {
            return mail.getRecipients();
        }
        return List.of();
    }

    @Override
    public String getMatcherInfo() {
        return "Matches messages whose SMTP transaction hit a spamtrap";
    }
}
