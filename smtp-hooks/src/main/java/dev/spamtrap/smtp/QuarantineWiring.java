package dev.spamtrap.smtp;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.protocols.api.handler.WiringException;
import org.apache.james.protocols.smtp.core.fastfail.AbstractValidRcptHandler;
import org.apache.james.server.core.configuration.ConfigurationProvider;

import java.util.List;

/**
 * The start-time checks that make a trapped message impossible to deliver or bounce by a configuration
 * mistake. Each failure stops James with the file and what to add or move:
 * <ul>
 * <li>smtpserver.xml: {@code TrapRcptHook} before every handler that answers for mailboxes
 * ({@code ValidRcptHandler} ...), or a trap could be answered "unknown user" without being recorded;</li>
 * <li>smtpserver.xml: {@code TrappedMessageHook} present and the first message hook, or a trapped message
 * is queued unmarked;</li>
 * <li>mailetcontainer.xml: {@code IsTrapped}/{@code Quarantine} the first mailet of the root processor,
 * or an earlier mailet could deliver or bounce it.</li>
 * </ul>
 */
final class QuarantineWiring {
    static final String MATCHER = "dev.spamtrap.mailets.IsTrapped";
    static final String MAILET = "dev.spamtrap.mailets.Quarantine";

    private QuarantineWiring() {
    }

    static void checkRcptOrder(List<?> rcptHooks) throws WiringException {
        int trap = indexOf(rcptHooks, TrapRcptHook.class);
        for (int i = 0; i < trap; i++) {
            Object hook = rcptHooks.get(i);
            if (hook instanceof AbstractValidRcptHandler) {
                throw new WiringException("smtpserver.xml: handler " + TrapRcptHook.class.getName() + " must be listed before "
                    + hook.getClass().getName() + " in <handlerchain>: move it up, or traps are answered 'unknown user' and never recorded");
            }
        }
    }

    static void checkMessageHooks(List<?> messageHooks) throws WiringException {
        int marker = indexOf(messageHooks, TrappedMessageHook.class);
        if (marker < 0) {
            throw new WiringException("smtpserver.xml: handler " + TrappedMessageHook.class.getName() + " is missing: add "
                + "<handler class=\"" + TrappedMessageHook.class.getName() + "\"/> to <handlerchain> right after "
                + TrapRcptHook.class.getName() + ", or trapped messages are delivered");
        }
        if (marker > 0) {
            throw new WiringException("smtpserver.xml: handler " + TrappedMessageHook.class.getName() + " must be the first message hook in "
                + "<handlerchain>: move it before " + messageHooks.get(0).getClass().getName() + ", or a trapped message can be queued unmarked");
        }
    }

    static void checkMailetContainer(ConfigurationProvider configurations) throws ConfigurationException {
        HierarchicalConfiguration<ImmutableNode> container = configurations.getConfiguration("mailetcontainer");
        for (HierarchicalConfiguration<ImmutableNode> processor : container.configurationsAt("processors.processor")) {
            if (!"root".equals(processor.getString("[@state]"))) {
                continue;
            }
            List<HierarchicalConfiguration<ImmutableNode>> mailets = processor.configurationsAt("mailet");
            String match = mailets.isEmpty() ? null : mailets.get(0).getString("[@match]", "");
            String clazz = mailets.isEmpty() ? null : mailets.get(0).getString("[@class]", "");
            if (MATCHER.equals(match) && MAILET.equals(clazz)) {
                return;
            }
            throw new ConfigurationException("mailetcontainer.xml: the first mailet of processor 'root' must be "
                + "<mailet match=\"" + MATCHER + "\" class=\"" + MAILET + "\"> (found "
                + (mailets.isEmpty() ? "no mailet" : "match=\"" + match + "\" class=\"" + clazz + "\"")
                + "): add or move it to the top of the root processor, or trapped messages are delivered or bounced");
        }
        throw new ConfigurationException("mailetcontainer.xml: no processor with state=\"root\": add one whose first mailet is "
            + "<mailet match=\"" + MATCHER + "\" class=\"" + MAILET + "\">");
    }

    private static int indexOf(List<?> handlers, Class<?> type) {
        for (int i = 0; i < handlers.size(); i++) {
            if (type.isInstance(handlers.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
