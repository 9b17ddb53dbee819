package dev.spamtrap.core.offender;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class OffenderViewTest {
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-22T10:00:00Z"));
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    };

    private Offender until(String ip, int seconds) {
        Instant t = now.get();
        return new Offender(ip, t, t, 1, "trap@example.com", "", "", "n", t.plusSeconds(seconds));
    }

    @Test
    void entriesExpire() {
        OffenderView view = new OffenderView(clock);
        view.putConfirmed(until("192.0.2.1", 10));
        assertThat(view.active("192.0.2.1")).isPresent();
        now.set(now.get().plusSeconds(11));
        assertThat(view.active("192.0.2.1")).isEmpty();
    }

    @Test
    void aRefreshThatPredatesALocalHitDoesNotDropIt() {
        OffenderView view = new OffenderView(clock);
        view.putPending(until("192.0.2.2", 60));
        view.replaceConfirmed(List.of());
        assertThat(view.active("192.0.2.2")).isPresent();
    }

    @Test
    void refreshBringsOtherNodesOffendersAndDropsRemovedOnes() {
        OffenderView view = new OffenderView(clock);
        view.putConfirmed(until("192.0.2.3", 60));
        view.replaceConfirmed(List.of(until("192.0.2.4", 60)));
        assertThat(view.active("192.0.2.3")).isEmpty();
        assertThat(view.active("192.0.2.4")).isPresent();
    }

    @Test
    void ipv6OffendersAreKeyedByTheirSlash64AndCoverEveryAddressInIt() throws Exception {
        dev.spamtrap.core.net.OffenderKeys keys = new dev.spamtrap.core.net.OffenderKeys(64);
        java.net.InetAddress first = java.net.InetAddress.getByName("2001:db8:1:2::5");
        assertThat(keys.keyOf(first)).isEqualTo("2001:db8:1:2::/64");
        assertThat(keys.keyOf(java.net.InetAddress.getByName("192.0.2.9"))).isEqualTo("192.0.2.9");
        assertThat(new dev.spamtrap.core.net.OffenderKeys(128).keyOf(first)).isEqualTo("2001:db8:1:2::5");
        OffenderView view = new OffenderView(clock, keys);
        view.putPending(until(keys.keyOf(first), 60));
        assertThat(view.active(java.net.InetAddress.getByName("2001:db8:1:2:aaaa::77"))).isPresent();
        assertThat(view.active(java.net.InetAddress.getByName("2001:db8:1:3::5"))).isEmpty();
    }

    @Test
    void prefixRowsWrittenByAnAdministratorCoverTheirAddresses() throws Exception {
        OffenderView view = new OffenderView(clock);
        view.replaceConfirmed(List.of(until("198.51.100.0/24", 60), until("2001:db8:ff::/48", 60)));
        assertThat(view.active(java.net.InetAddress.getByName("198.51.100.77"))).isPresent();
        assertThat(view.active(java.net.InetAddress.getByName("198.51.101.1"))).isEmpty();
        assertThat(view.active(java.net.InetAddress.getByName("2001:db8:ff:12::1"))).isPresent();
        now.set(now.get().plusSeconds(61));
        assertThat(view.active(java.net.InetAddress.getByName("198.51.100.77"))).isEmpty();
    }
}
