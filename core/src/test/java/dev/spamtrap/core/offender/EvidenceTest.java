package dev.spamtrap.core.offender;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class EvidenceTest {
    @Test
    void wellFormedValuesAreKeptAsTheyAre() {
        String domain = "a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(61); // 253: a full-length domain
        for (String v : new String[] {"", "mail.example.com", "<x@spam.test>", "bücher@exämple.de", domain, "u".repeat(256)}) {
            assertThat(Evidence.clean(v)).isSameAs(v);
        }
        assertThat(Evidence.clean(null)).isEmpty();
    }

    @Test
    void controlCharactersBecomeQuestionMarks() {
        assertThat(Evidence.clean("bot\u001b[31mred\u0000\u007f\t")).isEqualTo("bot?[31mred???");
    }

    @Test
    void aLongValueIsCutTo256CharsNeverHalfASurrogatePairAndCleaningTwiceChangesNothing() {
        String cut = Evidence.clean("h".repeat(10_000));
        assertThat(cut).hasSize(Evidence.MAX_CHARS).endsWith("...").startsWith("hhh");
        assertThat(Evidence.clean(cut)).isEqualTo(cut);

        String pairs = "x".repeat(252) + "\uD83D\uDE00".repeat(10); // the cut falls inside a pair
        String cleaned = Evidence.clean(pairs);
        assertThat(cleaned).isEqualTo("x".repeat(252) + "...");
        assertThat(Evidence.clean(cleaned)).isEqualTo(cleaned);

        String both = "\u0007".repeat(300);
        assertThat(Evidence.clean(both)).isEqualTo("?".repeat(253) + "...");
    }

    @Test
    void aTrapHitKeepsOnlyCleanedEvidence() {
        TrapHit hit = new TrapHit("id", "192.0.2.1", "192.0.2.1", Instant.EPOCH, "t".repeat(500) + "@traps.example.com",
            "\u001bHELO", "m".repeat(1000), "node");
        assertThat(hit.trap()).hasSize(256);
        assertThat(hit.helo()).isEqualTo("?HELO");
        assertThat(hit.mailFrom()).hasSize(256);
        TrapHit again = new TrapHit(hit.id(), hit.key(), hit.client(), hit.at(), hit.trap(), hit.helo(), hit.mailFrom(), hit.node());
        assertThat(again).isEqualTo(hit); // a spool replay decodes to the same hit
    }
}
