package dev.spamtrap.smtp;

import org.apache.commons.configuration2.HierarchicalConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.tree.ImmutableNode;
import org.apache.james.protocols.api.handler.WiringException;
import org.apache.james.protocols.smtp.core.fastfail.AbstractValidRcptHandler;
import org.apache.james.server.core.configuration.ConfigurationProvider;

import java.util.List;
import java.util.Set;

/**
 * The start-time checks that make a trapped message impossible to deliver or bounce by a configuration
 * mistake. Each failure stops James with the file and what to add or move:
 * <ul>
 * <li>smtpserver.xml: {@code TrapRcptHook} before every handler that answers for mailboxes
 * ({@code ValidRcptHandler} ...), or a trap could be answered "unknown user" without being recorded;</li>
 * <li>smtpserver.xml: {@code TrappedMessageHook} present and the first message hook, or a trapped message
 * is queued unmarked;</li>
 * <li>mailetcontainer.xml: {@code IsTrapped} with James's {@code ToRepository} (a repository, no {@code passThrough})
 * the first mailet of the root processor, or an earlier mailet could deliver or bounce it.</li>
 * </ul>
 */
final class QuarantineWiring {
    static final String MATCHER = "dev.spamtrap.mailets.IsTrapped";
    /** James's own mailet, by its short and full names. */
    static final Set<String> MAILETS = Set.of("ToRepository", "org.apache.james.transport.mailets.ToRepository");
    static final String EXAMPLE_REPOSITORY = "memory://var/mail/spamtrap/";
    static final String EXPECTED = "<mailet match=\"" + MATCHER + "\" class=\"ToRepository\"> with a <repositoryPath>";

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
        checkRootProcessor(configurations.getConfiguration("mailetcontainer"));
    }

    /**
     * The root processor's first mailet must be {@code IsTrapped} with James's {@code ToRepository} storing into a
     * repository and ending the mail ({@code passThrough} would hand it on to delivery).
     */
    static void checkRootProcessor(HierarchicalConfiguration<ImmutableNode> container) throws ConfigurationException {
        for (HierarchicalConfiguration<ImmutableNode> processor : container.configurationsAt("processors.processor")) {
            if (!"root".equals(processor.getString("[@state]"))) {
                continue;
            }
            List<HierarchicalConfiguration<ImmutableNode>> mailets = processor.configurationsAt("mailet");
            if (mailets.isEmpty()) {
                throw notFirst("no mailet");
            }
            HierarchicalConfiguration<ImmutableNode> first = mailets.get(0);
            String match = first.getString("[@match]", "");
            String clazz = first.getString("[@class]", "");
            if (!MATCHER.equals(match) || !MAILETS.contains(clazz)) {
                throw notFirst("match=\"" + match + "\" class=\"" + clazz + "\"");
            }
            if (first.getString("repositoryPath", "").isBlank()) {
                throw new ConfigurationException("mailetcontainer.xml: the first mailet of processor 'root' (" + MATCHER + " / " + clazz
                    + ") has no <repositoryPath>: add e.g. <repositoryPath>" + EXAMPLE_REPOSITORY + "</repositoryPath>, the quarantine");
            }
            if (first.getBoolean("passThrough", false)) {
                throw new ConfigurationException("mailetcontainer.xml: the first mailet of processor 'root' (" + MATCHER + " / " + clazz
                    + ") has <passThrough>true</passThrough>: remove it, or trapped messages are delivered after being stored");
            }
            return;
        }
        throw new ConfigurationException("mailetcontainer.xml: no processor with state=\"root\": add one whose first mailet is "
            + EXPECTED);
    }

    private static ConfigurationException notFirst(String found) {
        return new ConfigurationException("mailetcontainer.xml: the first mailet of processor 'root' must be " + EXPECTED
            + " (found " + found + "): add or move it to the top of the root processor, or trapped messages are delivered or bounced");
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
