package dev.spamtrap.core.offender;

import dev.spamtrap.core.SettableClock;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class OffenderViewTest {
    private final SettableClock clock = new SettableClock(Instant.parse("2026-11-22T10:00:00Z"));

    private Offender until(String ip, int seconds) {
        Instant t = clock.instant();
        return new Offender(ip, t, t, 1, "trap@example.com", "", "", "n", t.plusSeconds(seconds));
    }

    @Test
    void theCauseTravelsWithTheListingAndATrapListingOutranksAProtocolOne() throws Exception {
        OffenderView view = new OffenderView(clock);
        Instant now = clock.instant();
        java.net.InetAddress client = java.net.InetAddress.getByName("192.0.2.9");
        assertThat(view.put("192.0.2.9", now.plusSeconds(3600), now, Cause.protocol("pregreet"))).isTrue();
        ActiveListing o = view.active(client).get();
        assertThat(o.cause()).isEqualTo(Cause.protocol("pregreet"));
        assertThat(java.time.Duration.between(o.since(), o.until())).isEqualTo(java.time.Duration.ofHours(1));
        // a trap hit makes it a trap listing
        assertThat(view.put("192.0.2.9", now.plusSeconds(86_400), now, Cause.TRAP)).isTrue();
        assertThat(view.active(client).get().cause()).isEqualTo(Cause.TRAP);
        // a sensor never weakens it again, even with a later end
        assertThat(view.put("192.0.2.9", now.plusSeconds(90_000), now, Cause.protocol("http"))).isFalse();
        assertThat(view.active(client).get().cause()).isEqualTo(Cause.TRAP);
        assertThat(view.active(client).get().until()).isEqualTo(now.plusSeconds(86_400));
        // an observed listing never replaces an acted-on one; once that ended, it takes the key
        view.put("192.0.2.10", now.plusSeconds(60), now, Cause.protocol("header"));
        assertThat(view.put("192.0.2.10", now.plusSeconds(3600), now, Cause.protocol("header").observed())).isFalse();
        clock.set(now.plusSeconds(61));
        assertThat(view.put("192.0.2.10", now.plusSeconds(3600), now, Cause.protocol("header").observed())).isTrue();
        assertThat(view.active("192.0.2.10").get().cause().isObserved()).isTrue();
        // a trap listing over a protocol one keeps the later end
        view.put("2001:db8::/64", now.plusSeconds(7200), now, Cause.protocol("pregreet"));
        view.put("2001:db8::/64", now.plusSeconds(3600), now, Cause.MANUAL);
        assertThat(view.active("2001:db8::/64").get().cause()).isEqualTo(Cause.MANUAL);
        assertThat(view.active("2001:db8::/64").get().until()).isEqualTo(now.plusSeconds(7200));
    }

    @Test
    void entriesExpire() {
        OffenderView view = new OffenderView(clock);
        view.put(until("192.0.2.1", 10));
        assertThat(view.active("192.0.2.1")).isPresent();
        clock.set(clock.instant().plusSeconds(11));
        assertThat(view.active("192.0.2.1")).isEmpty();
    }

    @Test
    void theListingStartIsKeptForTheRefusalsLifetime() throws Exception {
        OffenderView view = new OffenderView(clock);
        Instant hit = clock.instant();
        view.put("192.0.2.7", hit.plus(java.time.Duration.ofDays(7)), hit);
        clock.set(hit.plusSeconds(3600));
        ActiveListing o = view.active(java.net.InetAddress.getByName("192.0.2.7")).get();
        assertThat(o.since()).isEqualTo(hit);
        assertThat(java.time.Duration.between(o.since(), o.until())).isEqualTo(java.time.Duration.ofDays(7));
        // a shorter listing later changes neither the expiry nor the start; a longer one takes its own start
        view.put("192.0.2.7", clock.instant().plusSeconds(60), clock.instant());
        assertThat(view.active("192.0.2.7").get().since()).isEqualTo(hit);
        view.put("192.0.2.7", hit.plus(java.time.Duration.ofDays(8)), clock.instant());
        assertThat(view.active("192.0.2.7").get().since()).isEqualTo(clock.instant());
    }

    @Test
    void aLongerListingWinsAndRemovalDropsIt() {
        OffenderView view = new OffenderView(clock);
        assertThat(view.put(until("192.0.2.3", 60))).isTrue();
        assertThat(view.put(until("192.0.2.3", 30))).isFalse();
        assertThat(view.active("192.0.2.3").get().until()).isEqualTo(clock.instant().plusSeconds(60));
        assertThat(view.put(until("192.0.2.3", 120))).isTrue();
        assertThat(view.remove("192.0.2.3")).isTrue();
        assertThat(view.active("192.0.2.3")).isEmpty();
        assertThat(view.put(until("192.0.2.3", 10))).isTrue();
        assertThat(view.active("192.0.2.3")).isPresent();
    }

    @Test
    void manyEntriesSurviveGrowthAndMalformedKeysAreIgnored() throws Exception {
        OffenderView view = new OffenderView(clock);
        Instant now = clock.instant();
        view.put("192.0.2.77", now.plusSeconds(7200), now.minusSeconds(600), Cause.MANUAL);
        view.put("192.0.2.78", now.plusSeconds(7200));
        view.remove("192.0.2.78");
        for (int i = 0; i < 100_000; i++) {
            view.put(until("10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255), 60));
        }
        assertThat(view.size()).isEqualTo(100_001);
        assertThat(view.isListed(java.net.InetAddress.getByName("10.1.134.159"))).isTrue();
        assertThat(view.isListed(java.net.InetAddress.getByName("10.2.0.1"))).isFalse();
        assertThat(view.put("not-an-ip", clock.instant().plusSeconds(60))).isFalse();
        assertThat(view.bytes() / view.size()).isLessThan(100);
        // every rebuild (growth, purge) keeps each entry's end, cause and start, and drops what was removed
        view.purgeExpired();
        ActiveListing kept = view.active("192.0.2.77").get();
        assertThat(kept.cause()).isEqualTo(Cause.MANUAL);
        assertThat(kept.until()).isEqualTo(now.plusSeconds(7200));
        assertThat(kept.since()).isEqualTo(now.minusSeconds(600));
        assertThat(view.active("192.0.2.78")).isEmpty();
        assertThat(view.size()).isEqualTo(100_001);
    }

    @Test
    void theLongestListedPrefixAnswers() throws Exception {
        OffenderView view = new OffenderView(clock);
        view.put(until("198.51.0.0/16", 30));
        view.put(until("198.51.100.0/24", 60));
        assertThat(view.active(java.net.InetAddress.getByName("198.51.100.7")).get().key()).isEqualTo("198.51.100.0/24");
        assertThat(view.active(java.net.InetAddress.getByName("198.51.7.7")).get().key()).isEqualTo("198.51.0.0/16");
    }

    @Test
    void ipv6OffendersAreKeyedByTheirSlash64AndCoverEveryAddressInIt() throws Exception {
        dev.spamtrap.core.net.OffenderKeys keys = new dev.spamtrap.core.net.OffenderKeys(64);
        java.net.InetAddress first = java.net.InetAddress.getByName("2001:db8:1:2::5");
        assertThat(keys.keyOf(first)).isEqualTo("2001:db8:1:2::/64");
        assertThat(keys.keyOf(java.net.InetAddress.getByName("192.0.2.9"))).isEqualTo("192.0.2.9");
        assertThat(new dev.spamtrap.core.net.OffenderKeys(128).keyOf(first)).isEqualTo("2001:db8:1:2::5");
        OffenderView view = new OffenderView(clock, keys);
        view.put(until(keys.keyOf(first), 60));
        assertThat(view.active(java.net.InetAddress.getByName("2001:db8:1:2:aaaa::77"))).isPresent();
        assertThat(view.active(java.net.InetAddress.getByName("2001:db8:1:3::5"))).isEmpty();
    }

    @Test
    void prefixRowsWrittenByAnAdministratorCoverTheirAddresses() throws Exception {
        OffenderView view = new OffenderView(clock);
        view.put(until("198.51.100.0/24", 60));
        view.put(until("2001:db8:ff::/48", 60));
        assertThat(view.active(java.net.InetAddress.getByName("198.51.100.77"))).isPresent();
        assertThat(view.active(java.net.InetAddress.getByName("198.51.101.1"))).isEmpty();
        assertThat(view.active(java.net.InetAddress.getByName("2001:db8:ff:12::1"))).isPresent();
        clock.set(clock.instant().plusSeconds(61));
        assertThat(view.active(java.net.InetAddress.getByName("198.51.100.77"))).isEmpty();
    }
}
