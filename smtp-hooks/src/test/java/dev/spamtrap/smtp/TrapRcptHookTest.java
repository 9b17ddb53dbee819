package dev.spamtrap.smtp;

import dev.spamtrap.smtp.TrapRcptHook.Bounces;
import dev.spamtrap.smtp.TrapRcptHook.Kind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Who sends a trap recipient decides what it means (the reply never depends on it: see TrapAcceptModeTest). */
class TrapRcptHookTest {
    @ParameterizedTest(name = "relay={0} auth={1} relayAuthorized={2} allowlisted={3} nullSender={4} bounces={5} -> {6}")
    @CsvSource({
        // a trusted relay first, even when relay-authorized or authenticated too (the usual backup MX set-up)
        "true,  false, true,  false, false, EVIDENCE, RELAYED",
        "true,  true,  true,  true,  true,  OFFENCE,  RELAYED",
        // exempt clients: never an offence, even with a null sender
        "false, true,  false, false, false, EVIDENCE, AUTHENTICATED",
        "false, true,  true,  true,  true,  OFFENCE,  AUTHENTICATED",
        "false, false, true,  false, false, EVIDENCE, RELAY_AUTHORIZED",
        "false, false, true,  true,  true,  EVIDENCE, RELAY_AUTHORIZED",
        "false, false, false, true,  false, EVIDENCE, ALLOWLISTED",
        "false, false, false, true,  true,  OFFENCE,  ALLOWLISTED",
        // bounces: evidence by default, an offence only when configured so
        "false, false, false, false, true,  EVIDENCE, BACKSCATTER",
        "false, false, false, false, true,  OFFENCE,  OFFENCE",
        "false, false, false, false, false, EVIDENCE, OFFENCE",
        "false, false, false, false, false, OFFENCE,  OFFENCE",
    })
    void classify(boolean relay, boolean auth, boolean relayAuthorized, boolean allowlisted, boolean nullSender, Bounces bounces, Kind expected) {
        assertThat(TrapRcptHook.classify(relay, auth, relayAuthorized, allowlisted, nullSender, bounces)).isEqualTo(expected);
    }
}
