package dev.spamtrap.smtp;

import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.protocols.api.handler.WiringException;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.fastfail.AbstractValidRcptHandler;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QuarantineWiringTest {
    /** Any handler that answers for mailboxes, as ValidRcptHandler does. */
    static final class MailboxCheck extends AbstractValidRcptHandler {
        @Override
        protected boolean isValidRecipient(SMTPSession session, MailAddress recipient) {
            return true;
        }

        @Override
        protected boolean isLocalDomain(SMTPSession session, Domain domain) {
            return true;
        }
    }

    @Test
    void trappedMessageHookMustBePresentAndFirst() {
        TrappedMessageHook marker = new TrappedMessageHook(null, null);
        assertThatCode(() -> QuarantineWiring.checkMessageHooks(List.of(marker, new Object()))).doesNotThrowAnyException();
        assertThatThrownBy(() -> QuarantineWiring.checkMessageHooks(List.of(new Object()))).isInstanceOf(WiringException.class)
            .hasMessageContaining("TrappedMessageHook is missing");
        assertThatThrownBy(() -> QuarantineWiring.checkMessageHooks(List.of(new Object(), marker)))
            .hasMessageContaining("must be the first message hook");
    }

    @Test
    void trapHookMustPrecedeMailboxChecks() {
        TrapRcptHook trap = new TrapRcptHook(null, null, null, null, null);
        assertThatCode(() -> QuarantineWiring.checkRcptOrder(List.of(new Object(), trap, new MailboxCheck()))).doesNotThrowAnyException();
        assertThatThrownBy(() -> QuarantineWiring.checkRcptOrder(List.of(new MailboxCheck(), trap))).isInstanceOf(WiringException.class)
            .hasMessageContaining("must be listed before " + MailboxCheck.class.getName());
    }
}
