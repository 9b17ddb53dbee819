package dev.spamtrap.smtp;

import dev.spamtrap.smtp.OffenderConnectHandler.Action;
import dev.spamtrap.smtp.OffenderConnectHandler.CheckAt;
import dev.spamtrap.smtp.OffenderConnectHandler.Mode;
import dev.spamtrap.smtp.OffenderConnectHandler.Stage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** OffenderConnectHandler's decision table: when it decides, and what. */
class OffenderVerdictTest {
    @ParameterizedTest(name = "checkAt={0} proxy={1} authOffered={2} -> deferred={3}")
    @CsvSource({
        "AUTO,    false, false, false",
        "AUTO,    false, true,  true",
        "AUTO,    true,  false, true",
        "CONNECT, false, true,  false",
        "CONNECT, true,  false, true",
        "CONNECT, true,  true,  true",
        "MAIL,    false, false, true",
        "MAIL,    true,  true,  true",
    })
    void whenTheVerdictIsTaken(CheckAt checkAt, boolean proxy, boolean authOffered, boolean deferred) {
        assertThat(OffenderConnectHandler.deferToMail(checkAt, proxy, authOffered)).isEqualTo(deferred);
    }

    @ParameterizedTest(name = "{0} deferred={1} handled={2} exempt={3} listed={4} {5} -> {6}")
    @CsvSource({
        // at connect
        "CONNECT, false, false, false, true,  TARPIT, TARPIT",
        "CONNECT, false, false, false, true,  REFUSE, REFUSE",
        "CONNECT, false, false, false, false, TARPIT, NONE",
        "CONNECT, false, false, true,  true,  TARPIT, NONE",
        "CONNECT, false, false, true,  true,  REFUSE, NONE",
        "CONNECT, true,  false, false, true,  TARPIT, DEFER",
        "CONNECT, true,  false, false, true,  REFUSE, DEFER",
        "CONNECT, true,  false, true,  false, REFUSE, DEFER",
        // at every MAIL FROM (also for a connection that passed at connect and was listed since)
        "MAIL,    false, false, false, true,  TARPIT, TARPIT",
        "MAIL,    false, false, false, true,  REFUSE, REFUSE",
        "MAIL,    false, false, false, false, REFUSE, NONE",
        "MAIL,    false, false, true,  true,  REFUSE, NONE",
        "MAIL,    false, false, true,  true,  TARPIT, NONE",
        // already tarpitted, or trapped by its own hit on this connection: nothing changes (the trap must not show)
        "MAIL,    false, true,  false, true,  REFUSE, NONE",
        "MAIL,    false, true,  false, true,  TARPIT, NONE",
    })
    void whatIsDone(Stage stage, boolean deferred, boolean handled, boolean exempt, boolean listed, Mode mode, Action expected) {
        assertThat(OffenderConnectHandler.verdict(stage, deferred, handled, exempt, listed, mode)).isEqualTo(expected);
    }
}
