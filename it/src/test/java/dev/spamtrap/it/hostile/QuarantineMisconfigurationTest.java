package dev.spamtrap.it.hostile;

import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.stack.JamesProcess;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/** Every configuration in which a trapped message could be delivered or bounced stops James at start. */
class QuarantineMisconfigurationTest {
    private static String failingStart(String name, UnaryOperator<JamesProcess> change) {
        return change.apply(JamesFixture.james(name, "it_misconf")).prepare().startExpectingFailure(Duration.ofSeconds(120));
    }

    @Test
    void missingTrappedMessageHook() {
        String log = failingStart("no-message-hook", j -> j.edit("smtpserver.xml",
            s -> s.replace("<handler class=\"dev.spamtrap.smtp.TrappedMessageHook\"/>", "")));
        assertThat(log).contains("smtpserver.xml: handler dev.spamtrap.smtp.TrappedMessageHook is missing: add "
            + "<handler class=\"dev.spamtrap.smtp.TrappedMessageHook\"/> to <handlerchain>");
    }

    @Test
    void trapHookAfterValidRcptHandler() {
        String valid = "<handler class=\"org.apache.james.smtpserver.fastfail.ValidRcptHandler\"/>";
        String log = failingStart("rcpt-order", j -> j.edit("smtpserver.xml",
            s -> s.replace(valid, "").replace("<handler class=\"dev.spamtrap.smtp.TrapRcptHook\">", valid + "\n<handler class=\"dev.spamtrap.smtp.TrapRcptHook\">")));
        assertThat(log).contains("smtpserver.xml: handler dev.spamtrap.smtp.TrapRcptHook must be listed before "
            + "org.apache.james.smtpserver.fastfail.ValidRcptHandler in <handlerchain>: move it up");
    }

    @Test
    void quarantineNotFirstInRootProcessor() {
        String log = failingStart("quarantine-order", j -> j.edit("mailetcontainer.xml",
            s -> s.replace("<processor state=\"root\" enableJmx=\"false\">", "<processor state=\"root\" enableJmx=\"false\">\n<mailet match=\"All\" class=\"PostmasterAlias\"/>")));
        assertThat(log).contains("mailetcontainer.xml: the first mailet of processor 'root' must be "
            + "<mailet match=\"dev.spamtrap.mailets.IsTrapped\" class=\"ToRepository\"> with a <repositoryPath> (found match=\"All\" class=\"PostmasterAlias\")");
    }

    @Test
    void quarantineMissing() {
        String log = failingStart("quarantine-missing", j -> j.edit("mailetcontainer.xml",
            s -> s.replaceAll("(?s)<mailet match=\"dev\\.spamtrap[^\"]*\"[^>]*>.*?</mailet>", "")));
        assertThat(log).contains("mailetcontainer.xml: the first mailet of processor 'root' must be");
    }
}
