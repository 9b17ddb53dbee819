package dev.spamtrap.agent.server;

import dev.spamtrap.core.SettableClock;

import dev.spamtrap.agent.safety.CircuitBreaker;
import dev.spamtrap.core.firewall.FirewallCommand;
import dev.spamtrap.core.firewall.MessageException;
import dev.spamtrap.core.firewall.SignedMessage;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Wall-clock steps (NTP, an administrator) do not refuse fresh commands, nor stall or trip the breaker. */
class ClockStepTest {
    private static SignedMessage signedAt(long millis, String nonce) {
        return new SignedMessage("tcp:127.0.0.1:7625", millis, nonce, java.util.List.of(FirewallCommand.block("192.0.2.7", 60)));
    }

    @Test
    void aBackwardStepDoesNotRefuseFreshCommands() throws Exception {
        SettableClock wall = new SettableClock(Instant.ofEpochMilli(1_800_000_000_000L));
        AtomicLong nanos = new AtomicLong(5_000_000_000L);
        ReplayGuard guard = new ReplayGuard(wall, nanos::get, Duration.ofSeconds(30), 1000);
        // before the agent started: refused
        assertThatThrownBy(() -> guard.check(signedAt(wall.millis() - 1000, "0000000000000001")))
            .isInstanceOf(MessageException.class).hasMessageContaining("signed before the agent started");
        nanos.addAndGet(5_000_000_000L);
        wall.set(wall.instant().plusMillis(5_000));
        guard.check(signedAt(wall.millis(), "0000000000000002"));
        // the wall clock steps back 10 minutes (James signs with the same stepped clock)
        wall.set(wall.instant().plusMillis(-600_000));
        nanos.addAndGet(1_000_000_000L);
        guard.check(signedAt(wall.millis(), "0000000000000003"));
        wall.set(wall.instant().plusMillis(1_000));
        nanos.addAndGet(1_000_000_000L);
        guard.check(signedAt(wall.millis() - 500, "0000000000000004"));
        // a message signed (on the stepped clock) before the agent started is still refused
        assertThatThrownBy(() -> guard.check(signedAt(wall.millis() - 7_500, "0000000000000005")))
            .isInstanceOf(MessageException.class).hasMessageContaining("signed before the agent started");
        // and a replay is still a replay
        assertThatThrownBy(() -> guard.check(signedAt(wall.millis() - 1_000, "0000000000000003")))
            .isInstanceOf(MessageException.class).hasMessageContaining("replayed");
    }

    @Test
    void theBreakerMinuteIsMonotonicAndItsMemoryBounded() {
        AtomicLong nanos = new AtomicLong(-7_000_000_000L);
        CircuitBreaker breaker = new CircuitBreaker(3, nanos::get);
        for (int i = 0; i < 3; i++) {
            assertThat(breaker.tryAdmit("a" + i)).isTrue();
        }
        assertThat(breaker.tryAdmit("x")).isFalse();
        assertThat(breaker.isOpen()).isTrue();
        for (int i = 0; i < 100_000; i++) { // a flood keeps it open, in 60 fixed buckets
            assertThat(breaker.tryAdmit("f")).isFalse();
        }
        nanos.addAndGet(59_000_000_000L);
        assertThat(breaker.tryAdmit("y")).isFalse();
        nanos.addAndGet(61_000_000_000L); // a minute after the flood, whatever the wall clock did
        assertThat(breaker.tryAdmit("z")).isTrue();
        assertThat(breaker.isOpen()).isFalse();
    }
}
