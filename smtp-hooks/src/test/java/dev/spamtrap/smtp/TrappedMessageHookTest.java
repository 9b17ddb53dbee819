package dev.spamtrap.smtp;

import dev.spamtrap.core.trap.TrappedMailAttributes;
import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.net.CidrRange;
import org.apache.james.core.MailAddress;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.base.test.FakeMail;
import org.junit.jupiter.api.Test;

import javax.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** What TrappedMessageHook puts on the Mail for the IsTrapped matcher, on a fake SMTP session. */
class TrappedMessageHookTest {
    static final AttributeName WHOLE = AttributeName.of(TrappedMailAttributes.TRAPPED);
    static final AttributeName ONLY = AttributeName.of(TrappedMailAttributes.TRAPPED_RECIPIENTS);
    // the runtime is only asked for a relayed message whose chain can be read
    final TrappedMessageHook hook = new TrappedMessageHook(null, null);

    static FakeMail mail(String headers) throws Exception {
        MimeMessage m = new MimeMessage(null, new ByteArrayInputStream((headers + "Subject: s\r\n\r\nbody\r\n").getBytes(StandardCharsets.US_ASCII)));
        return FakeMail.builder().name("m").mimeMessage(m).recipients(new MailAddress("trap@example.com"), new MailAddress("alice@example.com")).build();
    }

    @Test
    void aTrappedConnectionsMessageIsMarkedWhole() throws Exception {
        FakeSession session = new FakeSession("192.0.2.7");
        session.setAttachment(SpamtrapSessionKeys.TRAPPED, "trap@example.com", State.Connection);
        FakeMail mail = mail("");
        hook.onMessage(session, mail);
        assertThat(mail.getAttribute(WHOLE)).isPresent();
        assertThat(mail.getAttribute(ONLY)).isEmpty();
    }

    @Test
    void aBounceToATrapIsMarkedWholeForItsTransactionOnly() throws Exception {
        FakeSession session = new FakeSession("192.0.2.8");
        session.setAttachment(SpamtrapSessionKeys.TRAPPED_TRANSACTION, "trap@example.com", State.Transaction);
        FakeMail bounce = mail("");
        hook.onMessage(session, bounce);
        assertThat(bounce.getAttribute(WHOLE)).isPresent();
        session.resetState();
        FakeMail next = mail("");
        hook.onMessage(session, next);
        assertThat(next.getAttribute(WHOLE)).as("the bouncer's next message").isEmpty();
        assertThat(next.getAttribute(ONLY)).isEmpty();
    }

    @Test
    void anExemptClientsMessageNamesOnlyItsTrapRecipients() throws Exception {
        FakeSession session = new FakeSession("192.0.2.9");
        SpamtrapSessionKeys.addTrappedRecipient(session, new MailAddress("trap@example.com"));
        FakeMail mail = mail("");
        hook.onMessage(session, mail);
        assertThat(mail.getAttribute(WHOLE)).isEmpty();
        Collection<?> only = (Collection<?>) mail.getAttribute(ONLY).orElseThrow().getValue().value();
        List<Object> values = only.stream().map(v -> (Object) ((AttributeValue<?>) v).value()).collect(Collectors.toList());
        assertThat(values).containsExactly("trap@example.com");
    }

    @Test
    void aRelayedTrapWithAnUnreadableChainIsQuarantinedAndRecordsNobody() throws Exception {
        FakeSession session = new FakeSession("192.0.2.25");
        Allowlist relays = new Allowlist(List.of(CidrRange.parse("192.0.2.25")));
        session.setAttachment(SpamtrapSessionKeys.RELAYED_TRAP, new RelayedTrap("trap@example.com", "bot@spam.test", "ADDRESS", relays, false),
            State.Transaction);
        // the relay's header is one a HELO shaped: no client can be named (and the null runtime is never asked)
        FakeMail mail = mail("Received: from mx2 (mx2 [192.0.2.25]) by us (JAMES SMTP Server ) with ESMTP ID 1\r\n"
            + "Received: from x (unknown [198.51.100.77]) by y (unknown [203.0.113.9]) by mx2 (Postfix) with ESMTP id 1\r\n");
        hook.onMessage(session, mail);
        assertThat(mail.getAttribute(WHOLE)).isPresent();
    }

    @Test
    void anOrdinaryMessageIsNotMarked() throws Exception {
        FakeMail mail = mail("");
        hook.onMessage(new FakeSession("192.0.2.10"), mail);
        assertThat(mail.getAttribute(WHOLE)).isEmpty();
        assertThat(mail.getAttribute(ONLY)).isEmpty();
    }
}
