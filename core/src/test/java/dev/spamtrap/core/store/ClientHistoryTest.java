package dev.spamtrap.core.store;

import dev.spamtrap.core.SettableClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

class ClientHistoryTest {
    static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");

    private final SettableClock clock = new SettableClock(NOW);
    private final List<String> recounted = new CopyOnWriteArrayList<>();

    private ClientHistory history() {
        ClientHistory h = new ClientHistory(clock, Duration.ofDays(30));
        h.recountWith(recounted::add);
        return h;
    }

    @Test
    void nothingIsFreshUntilTheScanAfterStartHasFinished() {
        ClientHistory h = history();
        assertThat(h.claimFresh("192.0.2.1")).isFalse();
        h.hasHits("192.0.2.2");
        h.complete();
        assertThat(h.claimFresh("192.0.2.1")).isTrue();
        assertThat(h.claimFresh("192.0.2.2")).as("has hits in the store").isFalse();
    }

    @Test
    void aClientIsFreshOnceThenKnownUntilItsHorizon() {
        ClientHistory h = history();
        h.complete();
        assertThat(h.claimFresh("192.0.2.1")).isTrue();
        assertThat(h.claimFresh("192.0.2.1")).as("its fresh write is under way").isFalse();
        h.landed("192.0.2.1", NOW.plus(Duration.ofHours(24)));
        clock.set(NOW.plus(Duration.ofMinutes(1)));
        h.sweep(false);
        assertThat(h.claimFresh("192.0.2.1")).as("listed a day, remembered 30 days after").isFalse();
        clock.set(NOW.plus(Duration.ofDays(29)));
        assertThat(h.claimFresh("192.0.2.1")).isFalse();
        clock.set(NOW.plus(Duration.ofDays(40))); // horizon (31 days) and its week are over
        h.sweep(true);
        assertThat(h.claimFresh("192.0.2.1")).isTrue();
    }

    @Test
    void aForeignListingAfterAFreshWriteRecountsOnceTheWriteHasLanded() {
        ClientHistory h = history();
        h.complete();
        assertThat(h.claimFresh("192.0.2.1")).isTrue();
        h.listedElsewhere("192.0.2.1", NOW.plus(Duration.ofHours(24)));
        assertThat(recounted).as("not before our own write landed").isEmpty();
        h.landed("192.0.2.1", NOW.plus(Duration.ofHours(24)));
        assertThat(recounted).containsExactly("192.0.2.1");
        // a foreign listing of a client never written fresh here recounts nothing
        h.listedElsewhere("192.0.2.9", NOW.plus(Duration.ofHours(24)));
        assertThat(recounted).containsExactly("192.0.2.1");
    }

    @Test
    void aForeignListingSeenFirstMakesTheClientKnown() {
        ClientHistory h = history();
        h.complete();
        h.listedElsewhere("192.0.2.1", NOW.plus(Duration.ofHours(24)));
        assertThat(h.claimFresh("192.0.2.1")).isFalse();
        assertThat(recounted).isEmpty();
    }

    @Test
    void registrationsAreForgottenAfterTheirWindowAndAFailedWriteLeavesTheClientKnown() {
        ClientHistory h = history();
        h.complete();
        assertThat(h.claimFresh("192.0.2.1")).isTrue();
        h.landed("192.0.2.1", NOW.plus(Duration.ofHours(24)));
        assertThat(h.claimFresh("192.0.2.2")).isTrue();
        h.failed("192.0.2.2");
        assertThat(h.registrations()).isEqualTo(1);
        assertThat(h.claimFresh("192.0.2.2")).as("replayed the careful way").isFalse();
        clock.set(NOW.plus(ClientHistory.REGISTRATION).plusSeconds(1));
        h.sweep(false);
        assertThat(h.registrations()).isZero();
        h.listedElsewhere("192.0.2.1", NOW.plus(Duration.ofHours(24)));
        assertThat(recounted).as("too late to be a concurrent first hit").isEmpty();
    }
}
