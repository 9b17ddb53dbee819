package dev.spamtrap.it;

import dev.spamtrap.it.stack.JamesProcess;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** A bad trap line or bad setting stops James at start with the file, the key or line, and the reason. */
class BadConfigurationTest {
    private static String failingStart(String name, java.util.function.UnaryOperator<JamesProcess> change) {
        JamesProcess james = change.apply(JamesFixture.james(name, "it_badconf")).prepare();
        return james.startExpectingFailure(Duration.ofSeconds(120));
    }

    @Test
    void badTrapLineNamesFileLineAndReason() {
        String log = failingStart("bad-trap", j -> j.edit("traps.txt", s -> "ok@example.com\n# comment\n\n/spam(/\n"));
        assertThat(log).containsPattern("traps\\.txt:4: '/spam\\(/': invalid regular expression");
    }

    @Test
    void badDurationNamesFileAndKey() {
        String log = failingStart("bad-duration", j -> j.spamtrapProperty("offender.lifetime", "soon"));
        assertThat(log).containsPattern("spamtrap\\.properties: key 'offender\\.lifetime': 'soon' is not a duration");
    }

    @Test
    void badHandlerParameterNamesParameterAndReason() {
        String log = failingStart("bad-mode", j -> j.edit("smtpserver.xml", s -> s.replace("<mode>accept</mode>", "<mode>maybe</mode>")));
        assertThat(log).contains("smtpserver.xml: handler dev.spamtrap.smtp.TrapRcptHook: parameter 'mode': 'maybe' is not one of accept, reject");
    }
}
