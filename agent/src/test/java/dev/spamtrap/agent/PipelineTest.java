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

    @Test
    void aMessageLargerThanTheBatchSizeIsAppliedInTransactionsOfTheBatchSizeAndAnsweredOnce() throws Exception {
        FakeRunner slow = new FakeRunner().slowBy(200); // the first transaction is still running when the others arrive
        try (TestAgent t = new TestAgent(dir, Map.of("batch.size", "2"), slow, null, List.of())) {
            int before = slow.calls.size();
            String first = t.sign(FirewallCommand.block("192.0.2.1", 60));
            FirewallCommand[] five = new FirewallCommand[5];
            for (int i = 0; i < five.length; i++) {
                five[i] = FirewallCommand.block("192.0.2." + (10 + i), 60);
            }
            String second = t.sign(five);
            String third = t.sign(FirewallCommand.block("192.0.2.20", 60));
            List<String> replies = t.send(first, second, third);
            assertThat(replies).containsExactly("OK " + TestAgent.nonceOf(first) + " 1 of 1 applied: blocked for 60 s",
                "OK " + TestAgent.nonceOf(second) + " 5 of 5 applied", "OK " + TestAgent.nonceOf(third) + " 1 of 1 applied: blocked for 60 s");
            List<String> transactions = slow.calls.subList(before, slow.calls.size()).stream().map(c -> c.stdin).collect(java.util.stream.Collectors.toList());
            // at most two changes each, in the order they came
            StringBuilder all = new StringBuilder();
            for (String tx : transactions) {
                assertThat(tx.split(" timeout ", -1).length - 1).as(tx).isBetween(1, 2);
                all.append(tx);
            }
            assertThat(transactions.size()).isBetween(4, 5);
            assertThat(all.toString().replaceAll("(?s)[^\\n]*\\{ |timeout 60s|[,}\\n]", "").split(" +"))
                .containsExactly("192.0.2.1", "192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14", "192.0.2.20");
            assertThat(t.agent.applier().size()).isEqualTo(7);
        }
    }
}
