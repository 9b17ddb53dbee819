package dev.spamtrap.mailets;

import dev.spamtrap.core.trap.TrappedMailAttributes;
import org.apache.james.core.MailAddress;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMatcher;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Matches every recipient of a message sent on an SMTP connection that hit a spamtrap, or relayed with a
 * trap recipient by a trusted relay (marked by {@code dev.spamtrap.smtp.TrappedMessageHook}). It must be
 * first in the root processor, so that no co-recipient of a trap ever receives the message; the SMTP hooks
 * refuse to start James otherwise.
 *
 * <p>A message from an exempt client (authenticated, relay-authorized, allowlisted) that named a trap carries
 * {@code dev.spamtrap.trappedRecipients} instead: only those recipients match (James splits the message: the trap
 * copy goes to quarantine, the other recipients' copy goes on).
 *
 *
 * <pre>{@code
 * <mailet match="dev.spamtrap.mailets.IsTrapped" class="ToRepository">
 *   <repositoryPath>memory://var/mail/spamtrap/</repositoryPath>
 * </mailet>
 * }</pre>
 */
public class IsTrapped extends GenericMatcher {
    static final AttributeName TRAPPED = AttributeName.of(TrappedMailAttributes.TRAPPED);
    static final AttributeName TRAPPED_RECIPIENTS = AttributeName.of(TrappedMailAttributes.TRAPPED_RECIPIENTS);

    @Override
    public Collection<MailAddress> match(Mail mail) {
        if (mail.getAttribute(TRAPPED).isPresent()) {
            return mail.getRecipients();
        }
        Optional<Attribute> only = mail.getAttribute(TRAPPED_RECIPIENTS);
        if (only.isPresent() && only.get().getValue().value() instanceof Collection) {
            Set<String> traps = new HashSet<>();
            for (Object v : (Collection<?>) only.get().getValue().value()) {
                Object raw = v instanceof AttributeValue ? ((AttributeValue<?>) v).value() : v;
                traps.add(String.valueOf(raw).toLowerCase(Locale.ROOT));
            }
            List<MailAddress> matched = new ArrayList<>();
            for (MailAddress r : mail.getRecipients()) {
                if (traps.contains(r.asString().toLowerCase(Locale.ROOT))) {
                    matched.add(r);
                }
            }
            return matched;
        }
        return List.of();
    }

    @Override
    public String getMatcherInfo() {
        return "Matches messages whose SMTP transaction hit a spamtrap";
    }
}
