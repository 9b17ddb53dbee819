package dev.spamtrap.mailets;

import org.apache.james.core.MailAddress;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMatcherConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class IsTrappedTest {
    IsTrapped matcher;

    @BeforeEach
    void init() throws Exception {
        matcher = new IsTrapped();
        matcher.init(FakeMatcherConfig.builder().matcherName("IsTrapped").build());
    }

    static FakeMail mail(Attribute... attributes) throws Exception {
        FakeMail.Builder b = FakeMail.builder().name("m").recipients(new MailAddress("trap@example.com"), new MailAddress("Alice@example.com"));
        for (Attribute a : attributes) {
            b.attribute(a);
        }
        return b.build();
    }

    @Test
    void aTrappedMessageMatchesEveryRecipient() throws Exception {
        FakeMail m = mail(new Attribute(AttributeName.of("dev.spamtrap.trapped"), AttributeValue.of("trap@example.com")));
        assertThat(matcher.match(m)).containsExactlyInAnyOrder(new MailAddress("trap@example.com"), new MailAddress("Alice@example.com"));
    }

    @Test
    void anExemptClientsMessageMatchesOnlyItsTrapRecipients() throws Exception {
        FakeMail m = mail(new Attribute(AttributeName.of("dev.spamtrap.trappedRecipients"),
            AttributeValue.of(List.<AttributeValue<?>>of(AttributeValue.of("TRAP@example.com")))));
        assertThat(matcher.match(m)).containsExactly(new MailAddress("trap@example.com"));
    }

    @Test
    void anOrdinaryMessageMatchesNothing() throws Exception {
        assertThat(matcher.match(mail())).isEmpty();
    }
}
