package dev.spamtrap.core.offender;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Causes as stored, carried in the view, ranked across classes, and worded in the refusal. */
class CauseTest {
    @Test
    void theStoredReasonAndOffenceCountGiveTheCause() {
        assertThat(Cause.fromStored(null, 1)).isEqualTo(Cause.TRAP);
        assertThat(Cause.fromStored("trap", 1)).isEqualTo(Cause.TRAP);
        assertThat(Cause.fromStored("trap", 2)).isEqualTo(Cause.REPEAT);
        assertThat(Cause.fromStored("manual", 0)).isEqualTo(Cause.MANUAL);
        assertThat(Cause.fromStored("prefix-escalation", 0)).isEqualTo(Cause.PREFIX);
        Cause pregreet = Cause.fromStored("protocol:pregreet", 0);
        assertThat(pregreet.isProtocol()).isTrue();
        assertThat(pregreet.sensor()).isEqualTo("pregreet");
        assertThat(pregreet.confidence()).isEqualTo(Cause.Confidence.PROTOCOL);
        assertThat(Cause.fromStored("observe:protocol:http", 0)).isEqualTo(Cause.protocol("http").observed());
        assertThat(Cause.MANUAL.confidence()).isEqualTo(Cause.Confidence.TRAP);
    }

    @Test
    void everyCauseRoundTripsThroughItsLabelAndItsCode() {
        for (int code = 1; code < 32; code++) {
            Cause c = Cause.ofCode(code);
            assertThat(Cause.ofLabel(c.label())).isEqualTo(c);
            assertThat(Cause.ofCode(c.code())).isEqualTo(c);
            assertThat(Cause.fromStored(c.label(), c.kind() == Cause.Kind.REPEAT ? 2 : 1)).isEqualTo(c);
        }
        assertThat(Cause.ofCode(0)).as("unknown: a trap listing").isEqualTo(Cause.TRAP);
        assertThat(Cause.protocol("header").observed().label()).isEqualTo("observe:protocol:header");
        assertThatThrownBy(() -> Cause.protocol("bogus")).hasMessageContaining("pregreet, http, header");
    }

    @Test
    void ranksPutTrapClassAboveProtocolAboveObserved() {
        assertThat(Cause.TRAP.rank()).isGreaterThan(Cause.protocol("pregreet").rank());
        assertThat(Cause.protocol("pregreet").rank()).isGreaterThan(Cause.TRAP.observed().rank());
        assertThat(Cause.protocol("http").isWeak()).isTrue();
        assertThat(Cause.MANUAL.observed().isWeak()).isTrue();
        assertThat(Cause.PREFIX.isWeak()).isFalse();
    }

    @Test
    void theRefusalSaysWhyAndNeverNamesATrap() {
        assertThat(Cause.TRAP.refusalReason()).isEqualTo("has sent mail to a spamtrap on this server");
        assertThat(Cause.MANUAL.refusalReason()).isEqualTo("is listed by this server's administrator").doesNotContain("spamtrap");
        assertThat(Cause.protocol("pregreet").refusalReason()).isEqualTo("has broken the SMTP protocol on this server");
        assertThat(Cause.PREFIX.refusalReason()).isEqualTo(Cause.PREFIX_AROUND);
    }

    @Test
    void aLoadedListsCauseIsItsOwnClassNamedByTheList() {
        Cause nixspam = Cause.list("nixspam");
        assertThat(nixspam.label()).isEqualTo("list:nixspam");
        assertThat(nixspam.confidence()).isEqualTo(Cause.Confidence.LIST);
        assertThat(nixspam.confidence().label()).isEqualTo("list");
        assertThat(nixspam.isList()).isTrue();
        assertThat(nixspam.listName()).isEqualTo("nixspam");
        assertThat(nixspam.sensor()).isNull();
        assertThat(nixspam.isProtocol()).isFalse();
        assertThat(nixspam).isEqualTo(Cause.list("nixspam")).isNotEqualTo(Cause.list("uatraps"));
        assertThat(nixspam.hashCode()).isEqualTo(Cause.list("nixspam").hashCode());
        for (int code = 1; code < 32; code++) {
            assertThat(Cause.ofCode(code)).isNotEqualTo(nixspam);
        }
        assertThat(nixspam.observed().label()).isEqualTo("observe:list:nixspam");
        assertThat(nixspam.observed().isObserved()).isTrue();
        assertThat(nixspam.observed().listName()).isEqualTo("nixspam");
        assertThat(nixspam.observed()).isNotEqualTo(nixspam).isEqualTo(Cause.list("nixspam").observed());
        // weak: below a trap-class listing, never acted on under observe.traps as a trap would be
        assertThat(nixspam.isWeak()).isTrue();
        assertThat(nixspam.rank()).isLessThan(Cause.TRAP.rank());
        assertThat(nixspam.refusalReason()).isEqualTo("is on the nixspam list");
        assertThat(Cause.TRAP.isList()).isFalse();
        assertThat(Cause.TRAP.listName()).isNull();
    }

    @Test
    void theViewKeepsCauseAndLengthInOneWord() {
        int meta = PackedExpiryMap.meta(Cause.protocol("header").observed(), Duration.ofDays(3).getSeconds());
        assertThat(PackedExpiryMap.causeOf(meta)).isEqualTo(Cause.protocol("header").observed());
        assertThat(PackedExpiryMap.lengthOf(meta)).isEqualTo((int) Duration.ofDays(3).getSeconds());
        int capped = PackedExpiryMap.meta(Cause.MANUAL, Duration.ofDays(3650).getSeconds());
        assertThat(PackedExpiryMap.causeOf(capped)).isEqualTo(Cause.MANUAL);
        assertThat(Instant.EPOCH).isNotNull();
    }
}
