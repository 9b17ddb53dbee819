package dev.spamtrap.it.admin;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.firewall.FirewalledServer;
import dev.spamtrap.it.firewall.Netns;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Forgiving at the packet level, in network namespaces this test creates ({@link FirewalledServer}): an
 * offender blocked in the kernel by the agent is forgiven with {@code DELETE /spamtrap/offenders/<ip>};
 * within seconds its element is gone from the nftables set and its next TCP connection gets James's greeting.
 * The node's status shows the agent reachable and its breaker closed, and an address listed by hand through
 * WebAdmin on this node reaches this node's agent.
 * Skips, saying why, where namespaces or nft are not available.
 */
class ForgiveFirewallTest {
    static final String OFFENDER_IP = "10.231.91.2";
    static final String BY_HAND_IP = "10.231.91.77";

    @Test
    void forgivenOffenderIsUnblockedInTheKernelWithinSeconds() throws Exception {
        String why = Netns.whyNot();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        try (FirewalledServer server = new FirewalledServer("fgv", "10.231.91", OFFENDER_IP)) {
            server.start("forgive_fw", 19043, 17001, james -> james);

            assertThat(server.probe("trap", OFFENDER_IP)).startsWith("REPLIES 220");
            Await.until(Duration.ofSeconds(90), "offender in the kernel set", server::blockSet, s -> s.contains(OFFENDER_IP));
            assertThat(server.probe("connect", OFFENDER_IP)).as("blocked before").startsWith("NOCONNECT");
            assertThat(server.webAdminGet("/spamtrap/status")).contains("\"agentReachable\":true").contains("\"breakerState\":\"closed\"");

            // a listing by hand on this node reaches its own agent (the change feed skips a node's own entries)
            assertThat(server.webAdmin("PUT", "/spamtrap/offenders/" + BY_HAND_IP + "?lifetime=1h")).isEqualTo("204");
            Await.until(Duration.ofSeconds(15), "listing by hand in the kernel set", server::blockSet, s -> s.contains(BY_HAND_IP));

            assertThat(server.webAdmin("DELETE", "/spamtrap/offenders/" + OFFENDER_IP)).isEqualTo("204");
            Await.until(Duration.ofSeconds(15), "element removed from the kernel set", server::blockSet, s -> !s.contains(OFFENDER_IP));
            assertThat(server.probe("connect", OFFENDER_IP)).as("welcome after").startsWith("CONNECTED 220");
        }
    }
}
