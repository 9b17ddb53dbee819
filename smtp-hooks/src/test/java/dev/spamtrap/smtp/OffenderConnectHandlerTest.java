package dev.spamtrap.smtp;

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
    void refusalBytesAreOneCrlfTerminatedLine() {
        var r = new org.apache.james.protocols.smtp.SMTPResponse("450", "4.7.1 Your address 127.0.0.9 is listed");
        assertThat(new String(OffenderConnectHandler.bytes(r), StandardCharsets.US_ASCII))
            .isEqualTo("450 4.7.1 Your address 127.0.0.9 is listed\r\n");
    }
}
