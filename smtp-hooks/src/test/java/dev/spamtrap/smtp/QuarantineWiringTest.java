package dev.spamtrap.smtp;

import org.apache.james.protocols.api.handler.WiringException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QuarantineWiringTest {
    @Test
    void trappedMessageHookMustBePresentAndFirst() {
        TrappedMessageHook marker = new TrappedMessageHook(null);
        assertThatCode(() -> QuarantineWiring.checkMessageHooks(List.of(marker, new Object()))).doesNotThrowAnyException();
        assertThatThrownBy(() -> QuarantineWiring.checkMessageHooks(List.of(new Object()))).isInstanceOf(WiringException.class)
            .hasMessageContaining("TrappedMessageHook is missing");
        assertThatThrownBy(() -> QuarantineWiring.checkMessageHooks(List.of(new Object(), marker)))
            .hasMessageContaining("must be the first message hook");
    }
}
