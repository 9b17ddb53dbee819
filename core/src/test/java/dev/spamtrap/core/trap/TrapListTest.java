package dev.spamtrap.core.trap;

import dev.spamtrap.core.config.ConfigException;
import dev.spamtrap.core.config.ListFiles;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TrapListTest {
    private final TrapList traps = ListFiles.traps("traps.txt", List.of(
        "# demo traps",
        "trap@example.com",
        "",
        "@traps.example.com   # whole domain",
        "/^spam(master|trap)?@/"));

    @Test
    void exactAddressMatchesIgnoringCase() {
        assertThat(traps.match("trap@example.com")).map(TrapEntry::text).contains("trap@example.com");
        assertThat(traps.match("TRAP@Example.COM")).map(TrapEntry::text).contains("trap@example.com");
        assertThat(traps.match("trap2@example.com")).isEmpty();
        assertThat(traps.match("alice@example.com")).isEmpty();
    }

    @Test
    void domainMatchesEveryAddressOfThatDomainOnly() {
        assertThat(traps.match("anyone@traps.example.com")).map(TrapEntry::text).contains("@traps.example.com");
        assertThat(traps.match("x@TRAPS.example.com")).isPresent();
        assertThat(traps.match("x@sub.traps.example.com")).isEmpty();
        assertThat(traps.match("traps.example.com@example.com")).isEmpty();
    }

    @Test
    void regexMatchesLikePostfixIgnoringCase() {
        assertThat(traps.match("spam@example.org")).map(TrapEntry::text).contains("/^spam(master|trap)?@/");
        assertThat(traps.match("SpamMaster@example.org")).isPresent();
        assertThat(traps.match("spamtrap@x.y")).isPresent();
        assertThat(traps.match("nospam@example.org")).isEmpty();
        assertThat(traps.match("spammer@example.org")).isEmpty();
    }

    @Test
    void badEntriesFailWithFileLineAndReason() {
        assertThatThrownBy(() -> ListFiles.traps("traps.txt", List.of("ok@example.com", "", "/spam(/")))
            .isInstanceOf(ConfigException.class)
            .hasMessageStartingWith("traps.txt:3: ")
            .hasMessageContaining("invalid regular expression");
        assertThatThrownBy(() -> ListFiles.traps("traps.txt", List.of("not-an-address")))
            .hasMessageStartingWith("traps.txt:1: ").hasMessageContaining("neither an address");
        assertThatThrownBy(() -> ListFiles.traps("t", List.of("a@b@c.com"))).hasMessageContaining("more than one '@'");
        assertThatThrownBy(() -> ListFiles.traps("t", List.of("@bad..domain"))).hasMessageContaining("invalid domain");
        assertThatThrownBy(() -> ListFiles.traps("t", List.of("/x/g"))).hasMessageContaining("unsupported flag 'g'");
        assertThatThrownBy(() -> ListFiles.traps("t", List.of("/unclosed"))).hasMessageContaining("no closing '/'");
    }

    @Test
    void patternsRe2CannotRunInLinearTimeAreRefusedWithLineAndReason() {
        assertThatThrownBy(() -> ListFiles.traps("traps.txt", List.of("ok@example.com", "/(a)\\1@/")))
            .isInstanceOf(ConfigException.class)
            .hasMessageStartingWith("traps.txt:2: '/(a)\\1@/': invalid regular expression: ");
        assertThatThrownBy(() -> ListFiles.traps("traps.txt", List.of("/^(?=spam)/")))
            .hasMessageStartingWith("traps.txt:1: ").hasMessageContaining("invalid regular expression");
        assertThatThrownBy(() -> ListFiles.traps("t", List.of("/spam/x"))).hasMessageContaining("unsupported flag 'x'");
    }

    @Test
    void postfixFlagIMakesMatchingCaseSensitive() {
        TrapList t = ListFiles.traps("t", List.of("/^Spam@/i", "/^bait@/"));
        assertThat(t.match("Spam@example.com")).isPresent();
        assertThat(t.match("spam@example.com")).as("i makes the pattern case-sensitive, as in Postfix").isEmpty();
        assertThat(t.match("BAIT@example.com")).as("default: ignore case").isPresent();
    }

    @Test
    void catastrophicBacktrackingPatternAnswersAn8kAddress() {
        // With java.util.regex this pattern takes seconds on 26 characters and practically forever on 8 KB.
        TrapList t = ListFiles.traps("t", List.of("/(.*a){12}@traps/"));
        String local = "a".repeat(8000) + "b";
        assertThat(t.match(local + "@example.com")).isEmpty();
        assertThat(t.match("a".repeat(12) + "@traps.example.com")).isPresent();
    }

    @Test
    void mergeKeepsEntriesOfBothLists() {
        TrapList more = ListFiles.traps("db", List.of("dyn@example.com", "trap@example.com"));
        TrapList merged = TrapList.merge(traps, more);
        assertThat(merged.match("dyn@example.com")).isPresent();
        assertThat(merged.size()).isEqualTo(4);
    }
}
