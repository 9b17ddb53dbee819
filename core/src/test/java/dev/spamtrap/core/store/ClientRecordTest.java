package dev.spamtrap.core.store;

import dev.spamtrap.core.offender.OffenderPolicy;
import dev.spamtrap.core.offender.TrapHit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The pure step of recording: escalation, replays, forgive generations, and the write time that orders listings. */
class ClientRecordTest {
    static final OffenderPolicy POLICY = new OffenderPolicy(Duration.ofHours(24), Duration.ofDays(7), Duration.ofDays(30));
    static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");

    static TrapHit hit(String id, Instant at) {
        return new TrapHit(id, "192.0.2.1", "192.0.2.1", at, "t@example.com", "h", "m@x.y", "n");
    }

    @Test
    void theWriteTimeOrdersByGenerationThenListingEndThenHitCount() {
        Instant week = T0.plus(Duration.ofDays(7));
        assertThat(ClientRecord.forgiveWriteTime(1)).as("a forgive beats every listing before it")
            .isGreaterThan(ClientRecord.writeTime(0, week.plus(Duration.ofDays(3650)), 1_000_000));
        assertThat(ClientRecord.writeTime(1, T0.plusSeconds(1), 1)).as("a listing after the forgive beats it")
            .isGreaterThan(ClientRecord.forgiveWriteTime(1));
        assertThat(ClientRecord.writeTime(0, week, 1)).as("the later end wins, whatever the counts")
            .isGreaterThan(ClientRecord.writeTime(0, T0.plus(Duration.ofDays(1)), 500));
        assertThat(ClientRecord.writeTime(0, week, 6)).isGreaterThan(ClientRecord.writeTime(0, week, 5));
    }

    @Test
    void aTrapHitDuringAProtocolListingStartsATrapListing() {
        ClientRecord r = new ClientRecord("192.0.2.1");
        r.expiresAt = T0.plus(Duration.ofHours(1));
        r.listedAt = T0;
        r.reason = "protocol:pregreet";
        assertThat(r.offender().cause().isProtocol()).isTrue();
        ClientRecord.Outcome out = r.record(List.of(hit("a", T0.plus(Duration.ofMinutes(5)))), POLICY);
        assertThat(out.listed).isTrue();
        assertThat(r.reason).isEqualTo("trap");
        assertThat(r.offences).isEqualTo(1);
        assertThat(r.expiresAt).isEqualTo(T0.plus(Duration.ofMinutes(5)).plus(Duration.ofHours(24)));
        assertThat(r.offender().cause()).isEqualTo(dev.spamtrap.core.offender.Cause.TRAP);
        // a later repeat offence is one
        r.record(List.of(hit("b", T0.plus(Duration.ofHours(30)))), POLICY);
        assertThat(r.offender().cause()).isEqualTo(dev.spamtrap.core.offender.Cause.REPEAT);
    }

    @Test
    void aTrapHitDuringALongerProtocolListingKeepsItsEndSoItsWriteWins() {
        ClientRecord r = new ClientRecord("192.0.2.1");
        r.expiresAt = T0.plus(Duration.ofDays(30)); // protocol.lifetime 30d, above the trap's 24 h
        r.listedAt = T0;
        r.reason = "protocol:pregreet";
        r.hitCount = 1;
        long protocolWrite = r.writeTime();
        ClientRecord.Outcome out = r.record(List.of(hit("a", T0.plus(Duration.ofMinutes(5)))), POLICY);
        assertThat(out.listed).isTrue();
        assertThat(r.reason).isEqualTo("trap");
        assertThat(r.expiresAt).isEqualTo(T0.plus(Duration.ofDays(30)));
        assertThat(r.writeTime()).as("Cassandra keeps the trap listing over the protocol one").isGreaterThan(protocolWrite);
    }

    @Test
    void repeatsEscalateHitsWhileListedOnlyCountAndReplaysCountOnce() {
        ClientRecord r = new ClientRecord("192.0.2.1");
        ClientRecord.Outcome first = r.record(List.of(hit("a", T0)), POLICY);
        assertThat(first.listed).isTrue();
        assertThat(r.expiresAt).isEqualTo(T0.plus(Duration.ofHours(24)));
        ClientRecord.Outcome whileListed = r.record(List.of(hit("b", T0.plus(Duration.ofHours(2)))), POLICY);
        assertThat(whileListed.listed).isFalse();
        assertThat(r.hitCount).isEqualTo(2);
        assertThat(r.expiresAt).isEqualTo(T0.plus(Duration.ofHours(24)));
        Instant repeatAt = T0.plus(Duration.ofHours(30));
        assertThat(r.record(List.of(hit("c", repeatAt)), POLICY).listed).isTrue();
        assertThat(r.offences).isEqualTo(2);
        assertThat(r.expiresAt).isEqualTo(repeatAt.plus(Duration.ofHours(48)));
        ClientRecord.Outcome replay = r.record(List.of(hit("a", T0), hit("b", T0.plus(Duration.ofHours(2))), hit("c", repeatAt)), POLICY);
        assertThat(replay.evidence).isEmpty();
        assertThat(r.hitCount).isEqualTo(3);
        assertThat(r.expiresAt).isEqualTo(repeatAt.plus(Duration.ofHours(48)));
    }

    @Test
    void hitsOfAnOlderForgiveGenerationAreIgnoredAndANewOneStartsAFirstOffence() {
        ClientRecord r = new ClientRecord("192.0.2.1");
        r.expiresAt = T0;
        r.listedAt = T0;
        r.reason = "forgiven";
        r.generation = 1;
        r.offences = 0;
        ClientRecord.Outcome old = r.record(List.of(hit("a", T0.plusSeconds(60))), POLICY);
        assertThat(old.forgiven).isEqualTo(1);
        assertThat(old.evidence).isEmpty();
        assertThat(r.isForgiven()).isTrue();
        ClientRecord.Outcome fresh = r.record(List.of(hit("b", T0.plusSeconds(60)).withGeneration(1)), POLICY);
        assertThat(fresh.listed).isTrue();
        assertThat(r.offences).isEqualTo(1);
        assertThat(r.hitCount).isEqualTo(1);
        assertThat(r.expiresAt).isEqualTo(T0.plusSeconds(60).plus(Duration.ofHours(24)));
    }

    @Test
    void threeHitsKeepThreeEvidenceRows() {
        ClientRecord r = new ClientRecord("192.0.2.1");
        ClientRecord.Outcome o = r.record(List.of(hit("x", T0), hit("y", T0.plusSeconds(1)), hit("z", T0.plusSeconds(2))), POLICY);
        assertThat(o.evidence).hasSize(3);
    }

    @Test
    void aClientsEvidenceNeverExceedsItsSlots() {
        ClientRecord r = new ClientRecord("192.0.2.1");
        for (int i = 0; i < 10_000; i++) {
            r.record(List.of(hit("h" + i, T0.plusSeconds(i))), POLICY);
        }
        assertThat(r.hitCount).isEqualTo(10_000);
        assertThat(r.slotIds).hasSize(ClientRecord.SLOTS).doesNotContainNull();
        // exactly the 16 newest
        for (int i = 0; i < ClientRecord.SLOTS; i++) {
            assertThat(r.slotIds).contains("h" + (10_000 - 1 - i));
        }
        // a replay of a displaced hit is not counted again; nor one of the kept
        assertThat(r.record(List.of(hit("h5", T0.plusSeconds(5)), hit("h9999", T0.plusSeconds(9999))), POLICY).evidence).isEmpty();
        assertThat(r.hitCount).isEqualTo(10_000);
    }
}
