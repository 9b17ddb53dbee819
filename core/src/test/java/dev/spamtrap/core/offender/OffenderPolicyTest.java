package dev.spamtrap.core.offender;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OffenderPolicyTest {
    private final OffenderPolicy policy = new OffenderPolicy(Duration.ofHours(24), Duration.ofDays(7), Duration.ofDays(30));

    @Test
    void lifetimeDoublesPerHitUpToTheMaximum() {
        assertThat(policy.lifetimeFor(1)).isEqualTo(Duration.ofHours(24));
        assertThat(policy.lifetimeFor(2)).isEqualTo(Duration.ofHours(48));
        assertThat(policy.lifetimeFor(3)).isEqualTo(Duration.ofHours(96));
        assertThat(policy.lifetimeFor(4)).isEqualTo(Duration.ofDays(7));
        assertThat(policy.lifetimeFor(40)).isEqualTo(Duration.ofDays(7));
    }

    @Test
    void applyKeepsFirstHitAndCountsUp() {
        Instant first = Instant.parse("2026-11-01T00:00:00Z");
        Instant now = Instant.parse("2026-11-20T10:00:00Z");
        TrapHit hit = new TrapHit("192.0.2.1", now, "trap@example.com", "bot", "x@y.z", "n1");
        Offender o = policy.apply(hit, 2, first);
        assertThat(o.hitCount()).isEqualTo(3);
        assertThat(o.firstHit()).isEqualTo(first);
        assertThat(o.lastHit()).isEqualTo(now);
        assertThat(o.expiresAt()).isEqualTo(now.plus(Duration.ofHours(96)));
        Offender fresh = policy.apply(hit, 0, null);
        assertThat(fresh.hitCount()).isEqualTo(1);
        assertThat(fresh.firstHit()).isEqualTo(now);
        assertThat(fresh.expiresAt()).isEqualTo(now.plus(Duration.ofHours(24)));
    }

    @Test
    void onlyHitsAfterTheListingExpiredEscalateInAnyOrderAndWithDuplicates() {
        Instant t0 = Instant.parse("2026-11-01T00:00:00Z");
        // first hit lists for 24 h; a hit 1 h later changes nothing; a hit after expiry doubles
        Instant whileListed = t0.plus(Duration.ofHours(1));
        Instant repeat = t0.plus(Duration.ofHours(30));
        assertThat(policy.listedUntil(java.util.List.of(t0))).isEqualTo(t0.plus(Duration.ofHours(24)));
        assertThat(policy.listedUntil(java.util.List.of(whileListed, t0))).isEqualTo(t0.plus(Duration.ofHours(24)));
        assertThat(policy.listedUntil(java.util.List.of(repeat, t0, whileListed, t0))).isEqualTo(repeat.plus(Duration.ofHours(48)));
        assertThat(policy.repeatOffences(java.util.List.of(repeat, t0, whileListed))).isEqualTo(1);
    }

    @Test
    void refusesMaximumBelowLifetime() {
        assertThatThrownBy(() -> new OffenderPolicy(Duration.ofHours(2), Duration.ofHours(1), Duration.ofDays(1)))
            .hasMessageContaining("shorter than lifetime");
    }
}
