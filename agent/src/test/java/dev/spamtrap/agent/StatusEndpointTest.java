package dev.spamtrap.agent;

import dev.spamtrap.core.firewall.FirewallCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code status.listen}: applied, refused by reason and the breaker, as Prometheus text over real HTTP. */
class StatusEndpointTest {
    @TempDir
    Path dir;

    @Test
    void reportsAppliedRefusedByReasonAndTheBreaker() throws Exception {
        try (TestAgent t = new TestAgent(dir, Map.of("status.listen", "127.0.0.1:0", "breaker.maxNewBlocksPerMinute", "1"), new FakeRunner(),
            null, List.of())) {
            assertThat(t.sendOne(t.sign(FirewallCommand.block("192.0.2.7", 60)))).startsWith("OK ");
            assertThat(t.sendOne(t.sign(FirewallCommand.block("192.0.2.8", 60)))).contains("circuit breaker open");
            InetSocketAddress at = t.agent.statusAddress().orElseThrow();
            HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + at.getPort() + "/metrics").openConnection();
            String body;
            try (InputStream in = c.getInputStream()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            assertThat(c.getResponseCode()).isEqualTo(200);
            assertThat(body).contains("spamtrap_agent_applied_total 1\n", "spamtrap_agent_refused_total{reason=\"breaker\"} 1\n",
                "spamtrap_agent_breaker_open 1\n", "spamtrap_agent_entries 1\n");
        }
    }
}
