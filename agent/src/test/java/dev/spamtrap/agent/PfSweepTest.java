package dev.spamtrap.agent;

import dev.spamtrap.agent.backend.Op;
import dev.spamtrap.agent.backend.PfBackend;
import dev.spamtrap.agent.net.Prefix;
import dev.spamtrap.core.firewall.FirewallCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** pf has no per-entry lifetime: the backend deletes what is due by the deadlines it recorded, whatever the planner's view does. */
class PfSweepTest {
    @TempDir
    Path dir;

    private static boolean deleted(FakeRunner r, String address) {
        return r.calls.stream().anyMatch(c -> c.argv.contains("delete") && c.argv.contains(address));
    }

    @Test
    void theSweepDeletesWhatIsDueAndNothingElse() throws Exception {
        FakeRunner r = new FakeRunner();
        AtomicLong nanos = new AtomicLong(1_000_000_000_000L);
        PfBackend pf = new PfBackend(r, List.of("pfctl"), "spamtrap", Duration.ofSeconds(5), nanos::get);
        pf.apply(List.of(Op.add(Prefix.parse("192.0.2.7"), 5), Op.add(Prefix.parse("192.0.2.8"), 5), Op.add(Prefix.parse("192.0.2.9"), 60)));
        nanos.addAndGet(3_000_000_000L);
        pf.apply(List.of(Op.refresh(Prefix.parse("192.0.2.8"), 100)));
        assertThat(pf.sweepExpired()).isZero();
        nanos.addAndGet(3_000_000_000L);
        assertThat(pf.sweepExpired()).isEqualTo(1);
        assertThat(deleted(r, "192.0.2.7")).isTrue();
        assertThat(deleted(r, "192.0.2.8")).as("refreshed").isFalse();
        assertThat(deleted(r, "192.0.2.9")).isFalse();
        assertThat(pf.sweepExpired()).as("deleted once").isZero();
        pf.apply(List.of(Op.remove(Prefix.parse("192.0.2.9"))));
        nanos.addAndGet(600_000_000_000L);
        assertThat(pf.sweepExpired()).as("only 192.0.2.8 is left to expire").isEqualTo(1);
        assertThat(deleted(r, "192.0.2.8")).isTrue();
    }

    @Test
    void aBlockTheAgentAppliedIsDeletedFromPfWhenItsLifetimeIsOver() throws Exception {
        FakeRunner runner = new FakeRunner();
        try (TestAgent t = new TestAgent(dir, Map.of("backend", "pf"), runner, null, List.of())) {
            assertThat(t.sendOne(t.sign(FirewallCommand.block("192.0.2.44", 1)))).startsWith("OK ");
            assertThat(runner.calls.stream().anyMatch(c -> c.argv.contains("add") && c.argv.contains("192.0.2.44"))).isTrue();
            AgentLifecycleTest.waitFor(() -> deleted(runner, "192.0.2.44"));
        }
    }
}
