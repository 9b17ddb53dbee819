package dev.spamtrap.it.firewall;

import dev.spamtrap.it.Await;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole path at the packet level, in network namespaces this test creates ({@link FirewalledServer}): a
 * server host running a real Cassandra, a real James with the drop-in jar and the firewall agent with the
 * nftables backend, and a client host with two addresses. The client that sends to a trap is blocked in the
 * kernel (its next TCP connection fails) while the other address still connects; after the agent restarts with
 * its sets lost, they are rebuilt from Cassandra; the block then expires by its kernel timeout while the agent
 * is down. Skips, saying why, where namespaces or nft are not available.
 */
class FirewallEndToEndTest {
    static final String OFFENDER_IP = "10.231.90.2";
    static final String NEIGHBOUR_IP = "10.231.90.3";
    static final Duration LIFETIME = Duration.ofSeconds(60);

    @Test
    void trapSenderIsBlockedInTheKernelRebuiltFromCassandraAndExpiresByTimeout() throws Exception {
        String why = Netns.whyNot();
        Assumptions.assumeTrue(why == null, () -> "skipped: " + why);
        try (FirewalledServer server = new FirewalledServer("fwe", "10.231.90", OFFENDER_IP, NEIGHBOUR_IP)) {
            server.start("fw_e2e", 19042, 17000, james -> james
                // this test checks James's own refusal at connect (the sample decides at MAIL FROM where AUTH is offered)
                .offenderCheckAt("connect")
                .spamtrapProperty("offender.lifetime", LIFETIME.getSeconds() + "s"));

            assertThat(server.probe("connect", NEIGHBOUR_IP)).startsWith("CONNECTED 220");
            String replies = server.probe("trap", OFFENDER_IP);
            assertThat(replies).startsWith("REPLIES 220").contains("250 2.1.5 Recipient <trap@example.com> OK").doesNotContain("| 4").doesNotContain("| 5");

            Await.until(Duration.ofSeconds(30), "offender in the kernel set", server::blockSet, s -> s.contains(OFFENDER_IP));
            assertThat(server.probe("connect", OFFENDER_IP)).as("blocked host").startsWith("NOCONNECT");
            assertThat(server.probe("connect", NEIGHBOUR_IP)).as("other host").startsWith("CONNECTED 220");

            // The agent goes away and the kernel set is lost (e.g. a reboot); James still refuses by itself.
            server.agent().close();
            server.inServer("nft", "flush", "set", "inet", "spamtrap", "block4");
            assertThat(server.probe("connect", OFFENDER_IP)).startsWith("CONNECTED 450").contains(OFFENDER_IP);
            server.startAgent();
            Await.until(Duration.ofSeconds(60), "set rebuilt from Cassandra", server::blockSet, s -> s.contains(OFFENDER_IP));
            assertThat(server.probe("connect", OFFENDER_IP)).as("blocked again after the rebuild").startsWith("NOCONNECT");
            assertThat(server.agent().log()).contains("Start-up rebuild");

            // Expiry happens in the kernel, with no agent running.
            server.agent().close();
            Await.until(LIFETIME.plusSeconds(30), "kernel timeout of the element", server::blockSet, s -> !s.contains(OFFENDER_IP));
            assertThat(server.probe("connect", OFFENDER_IP)).as("welcome again").startsWith("CONNECTED");
        }
    }
}
