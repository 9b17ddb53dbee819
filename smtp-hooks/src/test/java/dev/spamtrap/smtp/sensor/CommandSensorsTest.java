package dev.spamtrap.smtp.sensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Command names as James hands them to unknown-command hooks (text before the first space, upper-cased). */
class CommandSensorsTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(nullValues = "none", value = {
        "GET, http", "POST, http", "CONNECT, http", "HEAD, http", "PUT, http",
        "SUBJECT:, header", "FROM:, header", "TO:, header", "MESSAGE-ID:<x@y>, header", "X-MAILER:, header", "SUBJECT:HI, header",
        // SMTP and near misses: never a sensor
        "HELO, none", "EHLO, none", "XCLIENT, none", "GETX, none", "STARTTLS, none", "AUTH, none", "BDAT, none",
        "':', none", "-X:, none", "1X:, none", "<X>:, none", "'', none"
    })
    void classify(String command, String sensor) {
        assertThat(CommandSensors.classify(command)).isEqualTo(sensor);
    }
}
