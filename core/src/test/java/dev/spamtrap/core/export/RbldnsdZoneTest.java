package dev.spamtrap.core.export;

import dev.spamtrap.core.admin.OffenderSummary;
import dev.spamtrap.core.offender.Cause;
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
            "# answers: 127.0.0.2 trap, 127.0.0.3 repeat offender, 127.0.0.4 prefix escalation, 127.0.0.5 listed by hand, 127.0.0.6 protocol sensor",
            "$DATASET ip4set @",
            ":127.0.0.2:Your address $ has sent mail to a spamtrap",
            "192.0.2.7 :127.0.0.2:Your address $ has sent mail to a spamtrap; listed until 2026-11-24T10:00:00Z",
            "198.51.100.0/24 :127.0.0.2:Your address $ has sent mail to a spamtrap; listed until 2026-11-24T10:00:00Z",
            "$DATASET ip6trie @",
            ":127.0.0.2:Your address $ has sent mail to a spamtrap",
            "2001:db8:1:2::/64 :127.0.0.2:Your address $ has sent mail to a spamtrap; listed until 2026-11-24T10:00:00Z");
    }

    private static OffenderSummary listed(String key, String reason, int offences) {
        return new OffenderSummary(key, AT, AT, 1, null, "n1", Instant.parse("2026-11-24T10:00:00Z"), reason, Cause.fromStored(reason, offences));
    }

    @Test
    void eachEntryAnswersByItsCauseAndObservedListingsAreLeftOut() {
        String zone = RbldnsdZone.render(List.of(listed("192.0.2.1", "trap", 1), listed("192.0.2.2", "trap", 2),
            listed("198.51.100.0/24", "prefix-escalation", 0), listed("192.0.2.4", "manual", 0), listed("192.0.2.5", "protocol:pregreet", 0),
            listed("192.0.2.6", "observe:protocol:http", 0)), AT, "m");
        assertThat(zone.lines()).contains(
            "192.0.2.1 :127.0.0.2:m; listed until 2026-11-24T10:00:00Z",
            "192.0.2.2 :127.0.0.3:m; listed until 2026-11-24T10:00:00Z",
            "198.51.100.0/24 :127.0.0.4:m; listed until 2026-11-24T10:00:00Z",
            "192.0.2.4 :127.0.0.5:m; listed until 2026-11-24T10:00:00Z",
            "192.0.2.5 :127.0.0.6:m; listed until 2026-11-24T10:00:00Z");
        assertThat(zone).doesNotContain("192.0.2.6").contains(", 5 entries");
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
