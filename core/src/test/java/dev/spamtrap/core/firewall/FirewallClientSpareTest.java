package dev.spamtrap.core.firewall;

import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.net.CidrRange;
import dev.spamtrap.core.offender.Cause;
import dev.spamtrap.core.offender.Offender;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The James-side client never asks the agent to block a key the node spares (allowlist, trusted relays, non-global). */
class FirewallClientSpareTest {
    @Test
    void sparedKeysAreNeverQueued() {
        Allowlist allowlisted = new Allowlist(List.of(CidrRange.parse("192.0.2.10"), CidrRange.parse("2001:db8:1::/48")));
        FirewallClient.Options options = new FirewallClient.Options().maxAttempts(1).initialBackoff(Duration.ofSeconds(60));
        // an endpoint nobody listens on: whatever is queued stays there (or is dropped), never "accepted"
        try (FirewallClient client = new FirewallClient(AgentEndpoint.tcp(new InetSocketAddress("127.0.0.1", 9)), FirewallKey.of(new byte[32]),
            Clock.systemUTC(), options, key -> {
                CidrRange r = CidrRange.parse(key);
                return allowlisted.ranges().stream().anyMatch(a -> a.overlaps(r));
            })) {
            Instant until = Instant.now().plusSeconds(3600);
            // a protocol sensor's listing and an observed one never reach the agent
            client.offenderRecorded(new Offender("203.0.113.5", until, until, 0, null, "", "", "n", until, Cause.protocol("pregreet")));
            client.offenderRecorded(new Offender("203.0.113.6", until, until, 1, "t", "", "", "n", until, Cause.TRAP.observed()));
            assertThat(client.protocolClassCount()).isEqualTo(2);
            assertThat(client.queued()).isZero();
            client.offenderRecorded(new Offender("192.0.2.0/24", until, until, 1, "t", "", "", "n", until));
            client.offenderRecorded(new Offender("2001:db8:1:2::/64", until, until, 1, "t", "", "", "n", until));
            assertThat(client.sparedCount()).isEqualTo(2);
            client.offenderRecorded(new Offender("198.51.100.7", until, until, 1, "t", "", "", "n", until));
            assertThat(client.sparedCount()).isEqualTo(2);
            // taken off the queue by the pipelined sender, it is in flight for a moment, then dropped (nobody listens)
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (client.queued() + client.sentCount() + client.droppedCount() == 0 && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            assertThat(client.queued() + client.sentCount() + client.droppedCount()).as("the other offender went to the queue").isPositive();
            assertThat(client.sparedCount()).isEqualTo(2);
        }
    }
}
