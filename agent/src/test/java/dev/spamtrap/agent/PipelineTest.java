package dev.spamtrap.agent;

import dev.spamtrap.core.firewall.AgentEndpoint;
import dev.spamtrap.core.firewall.FirewallClient;
import dev.spamtrap.core.firewall.FirewallCommand;
import dev.spamtrap.core.firewall.FirewallKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The channel is pipelined on both sides: James's client keeps many commands in flight, the agent reads them as they
 * come and applies what arrived meanwhile as one transaction, answering each. A slow firewall (every transaction
 * 300 ms, longer than a stop-and-wait exchange could afford) slows the client down and costs no command.
 */
class PipelineTest {
    @TempDir
    Path dir;

    @Test
    void aBusyAgentSlowsTheClientAndDropsNothing() throws Exception {
        FakeRunner slow = new FakeRunner().slowBy(300);
        try (TestAgent t = new TestAgent(dir, Map.of("breaker.maxNewBlocksPerMinute", "100000"), slow, null, List.of());
             FirewallClient james = new FirewallClient(AgentEndpoint.tcp(t.address), dev.spamtrap.core.firewall.FirewallKey.of(TestAgent.KEY_BYTES),
                 Clock.systemUTC(), new FirewallClient.Options())) {
            int before = slow.calls.size();
            int n = 8000;
            for (int i = 0; i < n; i++) {
                assertThat(james.submit(FirewallCommand.block("10.9." + (i >> 8) + "." + (i & 255), 600))).isTrue();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (james.sentCount() + james.droppedCount() < n && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(james.acceptedCount()).isEqualTo(n);
            assertThat(james.droppedCount()).isZero();
            assertThat(t.agent.applier().size()).isEqualTo(n);
            int transactions = slow.calls.size() - before;
            // stop-and-wait (64 per exchange) needed 125 transactions, 37 s at 300 ms each; pipelined, a handful
            assertThat(transactions).as("nft transactions for %d commands", n).isLessThanOrEqualTo(20);
            System.out.printf("%d commands through a 300 ms-per-transaction firewall in %d transactions%n", n, transactions);
        }
    }
}
