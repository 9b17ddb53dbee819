package dev.spamtrap.core.store;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Which prefix a client's hit counts towards: its /24 or /48 (as configured), never for a non-global source. */
class PrefixOfTest {
    private final PrefixEscalation rule = new PrefixEscalation(5, Duration.ofHours(1), 24, 48);

    @Test
    void aGlobalAddressCountsTowardsItsConfiguredPrefix() {
        assertThat(PrefixListing.prefixOf(rule, "192.0.2.77")).hasToString("192.0.2.0/24");
        assertThat(PrefixListing.prefixOf(rule, "2001:db8:1:2::10")).hasToString("2001:db8:1::/48");
    }

    @Test
    void linkLocalUnspecifiedAndMulticastSourcesCountTowardsNoPrefix() {
        for (String source : new String[] {"fe80::10", "169.254.3.4", "::", "0.0.0.0", "ff02::1", "224.0.0.5"}) {
            assertThat(PrefixListing.prefixOf(rule, source)).as(source).isNull();
        }
    }
}
