package dev.spamtrap.smtp;

import dev.spamtrap.core.offender.Cause;
import dev.spamtrap.core.offender.ActiveListing;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class OffenderConnectHandlerTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void endOfData() {
        assertThat(OffenderConnectHandler.isEndOfData(b(".\r\n"))).isTrue();
        assertThat(OffenderConnectHandler.isEndOfData(b(".\n"))).isTrue();
        assertThat(OffenderConnectHandler.isEndOfData(b("..\r\n"))).isFalse();
        assertThat(OffenderConnectHandler.isEndOfData(b(".x\r\n"))).isFalse();
        assertThat(OffenderConnectHandler.isEndOfData(b("\r\n"))).isFalse();
    }

    @Test
    void theRefusalSaysWhyByCauseAndAHandListedAddressIsNotCalledATrapSender() {
        java.time.Instant until = java.time.Instant.parse("2026-12-07T00:00:00Z");
        java.util.function.Function<Cause, ActiveListing> listed = c -> new ActiveListing("192.0.2.7", null, until, c);
        assertThat(OffenderConnectHandler.reasonText(listed.apply(Cause.MANUAL), true)).isEqualTo("is listed by this server's administrator");
        assertThat(OffenderConnectHandler.reasonText(listed.apply(Cause.TRAP), true)).isEqualTo("has sent mail to a spamtrap on this server");
        assertThat(OffenderConnectHandler.reasonText(listed.apply(Cause.REPEAT), true)).isEqualTo("has sent mail to a spamtrap on this server again");
        assertThat(OffenderConnectHandler.reasonText(listed.apply(Cause.protocol("pregreet")), true))
            .isEqualTo("has broken the SMTP protocol on this server");
        assertThat(OffenderConnectHandler.reasonText(listed.apply(Cause.MANUAL), false)).isEqualTo("is in a network range listed by this server");
        assertThat(OffenderConnectHandler.expand(OffenderConnectHandler.DEFAULT_TEXT, "192.0.2.7", java.time.Duration.ofHours(24),
            OffenderConnectHandler.reasonText(listed.apply(Cause.MANUAL), true), "192.0.2.7"))
            .isEqualTo("Your address 192.0.2.7 is listed by this server's administrator within the last 24 hours");
    }

    @Test
    void aLoadedListsClientIsToldWhichListEvenAsAnIpv6AddressOutsideItsOwnKey() {
        java.time.Instant until = java.time.Instant.parse("2026-12-07T00:00:00Z");
        ActiveListing onList = new ActiveListing("2001:db8::7", null, until, Cause.list("nixspam"));
        assertThat(OffenderConnectHandler.reasonText(onList, false)).isEqualTo("is on the nixspam list");
        assertThat(OffenderConnectHandler.expand("Your address %A is in the nixspam list", "2001:db8::7", java.time.Duration.ofHours(1),
            "is on the nixspam list", "2001:db8::7")).isEqualTo("Your address 2001:db8::7 is in the nixspam list");
    }

    @Test
    void refusalBytesAreOneCrlfTerminatedLine() {
        var r = new org.apache.james.protocols.smtp.SMTPResponse("450", "4.7.1 Your address 127.0.0.9 is listed");
        assertThat(new String(OffenderConnectHandler.bytes(r), StandardCharsets.US_ASCII))
            .isEqualTo("450 4.7.1 Your address 127.0.0.9 is listed\r\n");
    }
}
