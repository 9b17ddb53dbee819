package dev.spamtrap.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/** Reject mode: a trap is answered exactly as James answers an unknown local user, and still recorded. */
class TrapRejectModeTest {
    @RegisterExtension
    static final RealJames james = RealJames.named("reject")
        .with(j -> j.refusingAtConnect().trapMode("reject"));

    @Test
    void trapReplyIsTheUnknownUserReplyByteForByte() {
        int port = james.smtpPort();
        String unknown = JamesFixture.rcptReply("127.0.0.21", port, "nosuchuser@example.com");
        String trap = JamesFixture.rcptReply("127.0.0.20", port, "trap@example.com");
        assertThat(unknown).isEqualTo("550 5.1.1 Unknown user: nosuchuser@example.com");
        assertThat(trap.replace("trap@example.com", "ADDRESS")).isEqualTo(unknown.replace("nosuchuser@example.com", "ADDRESS"));

        assertThat(JamesFixture.connectionAnswer("127.0.0.20", port).get(0)).as("the trap hit was recorded").startsWith("450 ").contains("127.0.0.20");
        assertThat(JamesFixture.connectionAnswer("127.0.0.21", port).get(0)).as("an unknown user is no trap").startsWith("220 ");
    }
}
