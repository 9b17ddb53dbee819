package dev.spamtrap.agent.reconcile;

import dev.spamtrap.core.offender.Offender;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What a rebuild or reconcile takes from the store: nothing that overlaps a range of the shared allowlist table. */
class SharedAllowlistTest {
    private static Offender listed(String key) {
        Instant now = Instant.parse("2026-12-06T12:00:00Z");
        return new Offender(key, now, now, 1, "trap@example.com", "bot", "x@y", "mx1", now.plusSeconds(3600));
    }

    @Test
    void aKeyInsideOrAroundAnAllowlistedRangeIsLeftOut() {
        List<Offender> offenders = List.of(listed("10.231.93.0/24"), listed("10.231.93.130"), listed("10.231.94.0/24"),
            listed("192.0.2.7"), listed("2001:db8:1:2::/64"), listed("2001:db8:9::/48"));

        List<Offender> kept = CassandraOffenderSource.withoutAllowlisted(offenders,
            List.of("10.231.93.128/28", "2001:db8:1::/48", "not a range"));

        assertThat(kept).extracting(Offender::key).containsExactly("10.231.94.0/24", "192.0.2.7", "2001:db8:9::/48");
    }

    @Test
    void aProtocolSensorsListingNeverReachesTheKernel() {
        Offender trap = listed("192.0.2.7");
        List<Offender> kept = CassandraOffenderSource.trapClassOnly(List.of(trap, listed("192.0.2.8").withCause(dev.spamtrap.core.offender.Cause.protocol("pregreet")),
            listed("192.0.2.9").withCause(dev.spamtrap.core.offender.Cause.MANUAL), listed("192.0.2.10").withCause(dev.spamtrap.core.offender.Cause.TRAP.observed())));
        assertThat(kept).extracting(Offender::key).containsExactly("192.0.2.7", "192.0.2.9");
    }

    @Test
    void anEmptyAllowlistKeepsEveryone() {
        List<Offender> offenders = List.of(listed("192.0.2.7"), listed("198.51.100.0/24"));
        assertThat(CassandraOffenderSource.withoutAllowlisted(offenders, List.of())).isSameAs(offenders);
    }
}
