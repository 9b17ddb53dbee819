package dev.spamtrap.it.admin;

import dev.spamtrap.core.admin.OffenderSummary;
import dev.spamtrap.core.export.RbldnsdZone;
import dev.spamtrap.it.stack.ProjectLayout;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exported zone in a real rbldnsd, asked with a real dig, as Postfix postscreen or Rspamd would ask:
 * a listed IPv4 address and an address of a listed IPv6 /64 answer 127.0.0.2 with a TXT naming the
 * queried address and the expiry; an address of a listed IPv4 prefix too; an unlisted one is NXDOMAIN.
 */
class RbldnsdZoneTest {
    @Test
    void listedAddressesAnswer127002WithTheirTxtAndOthersAreNxdomain() throws Exception {
        String why = Rbldnsd.whyNot();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        Instant now = Instant.parse("2026-11-23T10:00:00Z");
        String zone = RbldnsdZone.render(List.of(
            offender("192.0.2.7", "2026-11-24T10:00:00Z"),
            offender("198.51.100.0/24", "2026-11-30T00:00:00Z"),
            offender("2001:db8:1:2::/64", "2026-11-25T10:00:00Z")), now, RbldnsdZone.DEFAULT_MESSAGE);
        try (Rbldnsd dns = Rbldnsd.serve(ProjectLayout.locate().root().resolve("it/target/rbldnsd-zone"), zone)) {
            assertThat(dns.dig("192.0.2.7", "A")).isEqualTo("127.0.0.2");
            assertThat(dns.dig("192.0.2.7", "TXT"))
                .isEqualTo("\"Your address 192.0.2.7 has sent mail to a spamtrap; listed until 2026-11-24T10:00:00Z\"");
            assertThat(dns.dig("2001:db8:1:2::abcd", "A")).isEqualTo("127.0.0.2");
            assertThat(dns.dig("2001:db8:1:2::abcd", "TXT"))
                .isEqualTo("\"Your address 2001:db8:1:2::abcd has sent mail to a spamtrap; listed until 2026-11-25T10:00:00Z\"");
            assertThat(dns.dig("198.51.100.77", "TXT")).contains("Your address 198.51.100.77 ", "2026-11-30T00:00:00Z");
            assertThat(dns.status("192.0.2.8")).isEqualTo("NXDOMAIN");
            assertThat(dns.status("2001:db8:1:3::1")).isEqualTo("NXDOMAIN");
            assertThat(dns.dig("192.0.2.8", "A")).isEmpty();
        }
    }

    private static OffenderSummary offender(String key, String expires) {
        Instant at = Instant.parse("2026-11-23T09:00:00Z");
        return new OffenderSummary(key, at, at, 1, "trap@example.com", "node-a", Instant.parse(expires), "trap");
    }
}
