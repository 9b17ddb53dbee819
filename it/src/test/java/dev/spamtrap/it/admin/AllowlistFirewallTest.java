package dev.spamtrap.it.admin;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.firewall.FirewalledServer;
import dev.spamtrap.it.firewall.Netns;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One allowlist at the packet level, in network namespaces ({@link FirewalledServer}), with real nft and the agent. A
 * prefix listed by hand is in the kernel; a range inside it allowlisted through WebAdmin (not the agent's own file)
 * forgives the prefix, whose element leaves the kernel, and the prefix cannot be listed again while the range is
 * allowlisted; a client inside the range that sends to a trap is neither listed nor blocked. A prefix listed by hand
 * that covers no allowlisted address reaches the kernel (the control). The agent's rebuild from Cassandra, after
 * its prefix set was emptied, puts back the control prefix and not the other.
 */
class AllowlistFirewallTest {
    static final String ALLOWED_IP = "10.231.93.130";

    @Test
    void aRangeAllowlistedThroughWebAdminIsNeverBlockedInTheKernel() throws Exception {
        String why = Netns.whyNot();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        try (FirewalledServer server = new FirewalledServer("alw", "10.231.93", ALLOWED_IP)) {
            server.start("allowlist_fw", 19044, 17002, james -> james);

            assertThat(server.webAdmin("PUT", "/spamtrap/offenders/10.231.93.128%2F26?lifetime=1h")).isEqualTo("204");
            Await.until(Duration.ofSeconds(30), "the listed prefix in the kernel", server::wideSet, s -> s.contains("10.231.93.128/26"));

            assertThat(server.webAdmin("PUT", "/spamtrap/allowlist/10.231.93.128%2F28")).isEqualTo("204");
            Await.until(Duration.ofSeconds(30), "the prefix around the allowlisted range out of the kernel", server::wideSet,
                s -> !s.contains("10.231.93.128/26"));
            assertThat(server.webAdmin("PUT", "/spamtrap/offenders/10.231.93.128%2F26?lifetime=1h")).as("listing it again").isEqualTo("400");
            assertThat(server.probe("trap", ALLOWED_IP)).as("an allowlisted client's trap message").startsWith("REPLIES 220");
            assertThat(server.webAdmin("PUT", "/spamtrap/offenders/10.231.94.0%2F24?lifetime=1h")).isEqualTo("204");

            Await.until(Duration.ofSeconds(30), "the control prefix in the kernel", server::wideSet, s -> s.contains("10.231.94.0/24"));
            assertThat(server.wideSet()).as("the prefix around the allowlisted range").doesNotContain("10.231.93.128/26");
            assertThat(server.blockSet()).as("the allowlisted client").doesNotContain(ALLOWED_IP);
            assertThat(server.probe("connect", ALLOWED_IP)).as("the allowlisted client connects and is greeted").startsWith("CONNECTED 220");

            // The agent's rebuild from Cassandra honours the shared allowlist too: with the prefix set emptied while it
            // was stopped, it puts back the control prefix from the store, never the one around the allowlisted range.
            server.agent().close();
            server.inServer("nft", "flush", "set", "inet", "spamtrap", "wide4");
            server.startAgent();
            Await.until(Duration.ofSeconds(60), "the control prefix rebuilt from Cassandra", server::wideSet, s -> s.contains("10.231.94.0/24"));
            assertThat(server.wideSet()).as("after the rebuild").doesNotContain("10.231.93.128/26");
        }
    }
}
