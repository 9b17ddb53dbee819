package dev.spamtrap.it;

import com.datastax.oss.driver.api.core.cql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Prefix escalation against a real James and a real Cassandra: three distinct addresses of one /24 hitting traps
 * list the /24, whose record names the hits that caused it, and a fourth address of it is refused at connect;
 * hits of four addresses in a /24 that overlaps the allowlist list only those four addresses.
 */
class PrefixEscalationTest {
    @RegisterExtension
    static final RealJames james = RealJames.named("prefix")
        .with(j -> j.refusingAtConnect()
            .spamtrapProperty("prefix.escalation.addresses", "3")
            .spamtrapProperty("prefix.escalation.window", "1h")
            .edit("allowlist.txt", s -> s + "\n127.0.78.240/28\n"));

    static Row row(String key) {
        return james.offenderRow("reason, cause, expires_at", key);
    }

    @Test
    void threeAddressesOfOnePrefixListThePrefixWithTheirHits() {
        int port = james.smtpPort();
        assertThat(JamesFixture.connectionAnswer("127.0.77.50", port).get(0)).as("before").startsWith("220 ");
        for (String ip : new String[] {"127.0.77.1", "127.0.77.2", "127.0.77.3"}) {
            assertThat(JamesFixture.rcptReply(ip, port, "trap@example.com")).startsWith("250");
        }
        Row prefix = Await.until(Duration.ofSeconds(30), "the /24 listed", () -> row("127.0.77.0/24"), r -> r != null);
        assertThat(prefix.getString("reason")).isEqualTo("prefix-escalation");
        // the record names the three hits (node/session ids), one per address
        assertThat(prefix.getString("cause").split(",")).hasSize(3);
        Await.until(Duration.ofSeconds(15), "a fourth address of the /24 refused",
            () -> JamesFixture.connectionAnswer("127.0.77.50", port).get(0), s -> s.startsWith("450 "));
    }

    @Test
    void aPrefixOverlappingTheAllowlistIsNeverListed() throws Exception {
        int port = james.smtpPort();
        for (String ip : new String[] {"127.0.78.1", "127.0.78.2", "127.0.78.3", "127.0.78.4"}) {
            assertThat(JamesFixture.rcptReply(ip, port, "trap@example.com")).startsWith("250");
        }
        Await.until(Duration.ofSeconds(30), "the four addresses listed", () -> row("127.0.78.4"), r -> r != null);
        Thread.sleep(3000); // the escalation runs after each listing: give the last one time to (not) happen
        assertThat(row("127.0.78.0/24")).isNull();
        assertThat(JamesFixture.connectionAnswer("127.0.78.50", port).get(0)).startsWith("220 ");
    }
}
