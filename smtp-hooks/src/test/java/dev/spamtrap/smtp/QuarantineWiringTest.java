package dev.spamtrap.smtp;

import org.apache.james.core.Domain;
import org.apache.james.core.MailAddress;
import org.apache.james.protocols.api.handler.WiringException;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.fastfail.AbstractValidRcptHandler;
import org.apache.commons.configuration2.XMLConfiguration;
import org.apache.commons.configuration2.ex.ConfigurationException;
import org.apache.commons.configuration2.io.FileHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.StringReader;
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

    @Test
    void trustedRelaysInTheHookAreRefusedWithTheNodeKeyToUse() throws ConfigurationException {
        XMLConfiguration handler = new XMLConfiguration();
        new FileHandler(handler).load(new StringReader("<handler><mode>accept</mode><trustedRelays>192.0.2.25</trustedRelays></handler>"));
        TrapRcptHook trap = new TrapRcptHook(null, null, null, null, null);
        assertThatThrownBy(() -> trap.init(handler)).isInstanceOf(ConfigurationException.class)
            .hasMessageContaining("trustedRelays").hasMessageContaining("spamtrap.properties");
    }

    static XMLConfiguration mailetContainer(String rootMailets) throws ConfigurationException {
        XMLConfiguration xml = new XMLConfiguration();
        new FileHandler(xml).load(new StringReader("<mailetcontainer><processors>"
            + "<processor state=\"transport\"><mailet match=\"All\" class=\"LocalDelivery\"/></processor>"
            + "<processor state=\"root\">" + rootMailets + "</processor></processors></mailetcontainer>"));
        return xml;
    }

    static final String TRAPPED = "<mailet match=\"dev.spamtrap.mailets.IsTrapped\" class=\"%s\">%s</mailet>";
    static final String REPOSITORY = "<repositoryPath>memory://var/mail/spamtrap/</repositoryPath>";

    @ParameterizedTest
    @CsvSource({"ToRepository", "org.apache.james.transport.mailets.ToRepository"})
    void jamesToRepositoryFirstInRootIsTheQuarantine(String mailet) {
        assertThatCode(() -> QuarantineWiring.checkRootProcessor(mailetContainer(String.format(TRAPPED, mailet, REPOSITORY)
            + "<mailet match=\"All\" class=\"ToProcessor\"><processor>transport</processor></mailet>"))).doesNotThrowAnyException();
        assertThatCode(() -> QuarantineWiring.checkRootProcessor(mailetContainer(String.format(TRAPPED, mailet,
            REPOSITORY + "<passThrough>false</passThrough>")))).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // root mailets | what the error must say
        "<mailet match=\"All\" class=\"PostmasterAlias\"/><mailet match=\"dev.spamtrap.mailets.IsTrapped\" class=\"ToRepository\">"
            + "<repositoryPath>memory://var/mail/spamtrap/</repositoryPath></mailet>"
            + "| must be <mailet match=\"dev.spamtrap.mailets.IsTrapped\" class=\"ToRepository\"> with a <repositoryPath> (found match=\"All\" class=\"PostmasterAlias\")",
        "| (found no mailet)",
        "<mailet match=\"dev.spamtrap.mailets.IsTrapped\" class=\"ToProcessor\"><processor>transport</processor></mailet>"
            + "| (found match=\"dev.spamtrap.mailets.IsTrapped\" class=\"ToProcessor\")",
        "<mailet match=\"dev.spamtrap.mailets.IsTrapped\" class=\"ToRepository\"/>| has no <repositoryPath>: add e.g.",
        "<mailet match=\"dev.spamtrap.mailets.IsTrapped\" class=\"ToRepository\"><repositoryPath>memory://var/mail/spamtrap/</repositoryPath>"
            + "<passThrough>true</passThrough></mailet>| has <passThrough>true</passThrough>: remove it, or trapped messages are delivered",
    })
    void aRootProcessorThatCouldDeliverATrappedMessageStopsJames(String rootMailets, String error) {
        assertThatThrownBy(() -> QuarantineWiring.checkRootProcessor(mailetContainer(rootMailets == null ? "" : rootMailets)))
            .isInstanceOf(ConfigurationException.class)
            .hasMessageStartingWith("mailetcontainer.xml: ")
            .hasMessageContaining(error);
    }

    @Test
    void noRootProcessorStopsJames() throws ConfigurationException {
        XMLConfiguration xml = new XMLConfiguration();
        new FileHandler(xml).load(new StringReader("<mailetcontainer><processors><processor state=\"transport\"/></processors></mailetcontainer>"));
        assertThatThrownBy(() -> QuarantineWiring.checkRootProcessor(xml)).hasMessageContaining("no processor with state=\"root\"");
    }
}
