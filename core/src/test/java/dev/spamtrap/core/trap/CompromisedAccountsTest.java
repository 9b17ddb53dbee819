package dev.spamtrap.core.trap;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

class CompromisedAccountsTest {
    @Test
    void countsPerAccountMostRecentFirstAndForgets() {
        Instant t0 = Instant.parse("2026-12-06T10:00:00Z");
        Clock[] clock = {Clock.fixed(t0, ZoneOffset.UTC)};
        CompromisedAccounts accounts = new CompromisedAccounts(new Clock() {
            public java.time.ZoneId getZone() { return ZoneOffset.UTC; }
            public Clock withZone(java.time.ZoneId z) { return this; }
            public Instant instant() { return clock[0].instant(); }
        });
        accounts.record("alice@example.com", "192.0.2.1", "trap@example.com");
        clock[0] = Clock.fixed(t0.plusSeconds(60), ZoneOffset.UTC);
        accounts.record("bob@example.com", "192.0.2.2", "trap@example.com");
        clock[0] = Clock.fixed(t0.plusSeconds(120), ZoneOffset.UTC);
        accounts.record("alice@example.com", "192.0.2.3", "other@example.com");
        assertThat(accounts.list()).extracting(CompromisedAccounts.Account::account).containsExactly("alice@example.com", "bob@example.com");
        CompromisedAccounts.Account alice = accounts.list().get(0);
        assertThat(alice.hits()).isEqualTo(2);
        assertThat(alice.firstHit()).isEqualTo(t0);
        assertThat(alice.lastHit()).isEqualTo(t0.plusSeconds(120));
        assertThat(alice.lastClient()).isEqualTo("192.0.2.3");
        assertThat(alice.lastTrap()).isEqualTo("other@example.com");
        assertThat(accounts.forget("bob@example.com")).isTrue();
        assertThat(accounts.forget("bob@example.com")).isFalse();
        assertThat(accounts.list()).hasSize(1);
    }
}
