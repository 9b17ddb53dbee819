package dev.spamtrap.core.export;

import dev.spamtrap.core.admin.OffenderSummary;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RbldnsdZoneTest {
    private static final Instant AT = Instant.parse("2026-11-23T10:00:00.123Z");

    private static OffenderSummary offender(String key) {
        return new OffenderSummary(key, AT, AT, 1, "trap@example.com", "n1", Instant.parse("2026-11-24T10:00:00.999Z"), "trap");
    }

    @Test
    void ipv4AndIpv6GoToTheirOwnDatasetWithExpiryInTheTxt() {
        String zone = RbldnsdZone.render(List.of(offender("2001:db8:1:2::/64"), offender("192.0.2.7"), offender("198.51.100.0/24")), AT,
            RbldnsdZone.DEFAULT_MESSAGE);
        assertThat(zone.lines()).containsExactly(
            "# spamtrap offenders, generated 2026-11-23T10:00:00Z, 3 entries",
            "$DATASET ip4set @",
            ":127.0.0.2:Your address $ has sent mail to a spamtrap",
            "192.0.2.7 :127.0.0.2:Your address $ has sent mail to a spamtrap; listed until 2026-11-24T10:00:00Z",
            "198.51.100.0/24 :127.0.0.2:Your address $ has sent mail to a spamtrap; listed until 2026-11-24T10:00:00Z",
            "$DATASET ip6trie @",
            ":127.0.0.2:Your address $ has sent mail to a spamtrap",
            "2001:db8:1:2::/64 :127.0.0.2:Your address $ has sent mail to a spamtrap; listed until 2026-11-24T10:00:00Z");
    }

    @Test
    void aMessageStaysOnOneLineAndAnEmptyOneFallsBackToTheDefault() {
        assertThat(RbldnsdZone.render(List.of(), AT, "line one\r\nline two $")).contains(":127.0.0.2:line one line two $\n");
        assertThat(RbldnsdZone.render(List.of(), AT, " \n ")).contains(":127.0.0.2:" + RbldnsdZone.DEFAULT_MESSAGE + "\n");
    }

    @Test
    void plainListIsOneKeyPerLine() {
        assertThat(PlainList.render(List.of(offender("192.0.2.7"), offender("2001:db8::/64")))).isEqualTo("192.0.2.7\n2001:db8::/64\n");
    }
}
