package dev.spamtrap.it;

import com.datastax.oss.driver.api.core.cql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Entries expire (Cassandra TTL and the local view) and the client is welcome again; a repeat offender's
 * lifetime doubles per hit up to the maximum. Lifetimes are seconds here so the test can watch them pass.
 */
class OffenderLifetimeTest {
    @RegisterExtension
    static final RealJames james = RealJames.named("lifetime")
        .with(j -> j.refusingAtConnect()
            .spamtrapProperty("offender.lifetime", "3s")
            .spamtrapProperty("offender.maxLifetime", "9s")
            .spamtrapProperty("offender.historyLifetime", "1h"));

    static Row row(String ip) {
        return james.offenderRow("hit_count, offences, last_hit, expires_at, TTL(trap) AS ttl", ip);
    }

    /** Hits the trap, checks the refusal and the record, waits until the client is welcome again. */
    private void offendAndServe(String ip, int expectedHits, Duration expectedLifetime) {
        int port = james.smtpPort();
        assertThat(JamesFixture.rcptReply(ip, port, "trap@example.com")).startsWith("250");
        assertThat(JamesFixture.connectionAnswer(ip, port).get(0)).startsWith("450 ");
        Row r = Await.until(Duration.ofSeconds(15), "record #" + expectedHits, () -> row(ip), x -> x != null && x.getInt("hit_count") == expectedHits);
        assertThat(Duration.between(r.getInstant("last_hit"), r.getInstant("expires_at"))).isEqualTo(expectedLifetime);
        assertThat(r.getInt("offences")).isEqualTo(expectedHits);
        // the listing is remembered (for escalation) until its end plus offender.historyLifetime (1 h here), then expires
        assertThat(r.getInt("ttl")).isBetween(3600, 3600 + (int) expectedLifetime.getSeconds());
        Await.until(expectedLifetime.plusSeconds(10), "welcome again after " + expectedLifetime,
            () -> JamesFixture.connectionAnswer(ip, port).get(0), s -> s.startsWith("220 "));
    }

    @Test
    void entryExpiresAndRepeatHitsDoubleTheLifetimeUpToTheMaximum() {
        offendAndServe("127.0.0.30", 1, Duration.ofSeconds(3));
        offendAndServe("127.0.0.30", 2, Duration.ofSeconds(6));
        offendAndServe("127.0.0.30", 3, Duration.ofSeconds(9));
        Row history = SharedCassandra.cql().execute("SELECT count(*) AS n FROM " + james.keyspace() + ".offenders WHERE ip = '127.0.0.30'").one();
        assertThat(history.getLong("n")).as("evidence rows").isEqualTo(3);
    }
}
