package dev.spamtrap.core.runtime;

import dev.spamtrap.core.config.ListFiles;
import dev.spamtrap.core.trap.TrapList;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SparedKeysTest {
    private final TrapsAndAllowlist lists = new TrapsAndAllowlist(TrapList.EMPTY, ListFiles.allowlist("allowlist.txt", List.of("203.0.113.0/28")));
    private final SparedKeys spared = new SparedKeys(lists, ListFiles.allowlist("trustedRelays", List.of("192.0.2.25", "2001:db8:1::/48")));

    @ParameterizedTest
    @CsvSource({
        "198.51.100.7, false",
        "192.0.2.25, true",          // a trusted relay
        "192.0.2.0/24, true",        // a listed prefix around a trusted relay
        "192.0.2.26, false",
        "2001:db8:1:2::/64, true",   // inside a trusted range
        "2001:db8:2::/64, false",
        "203.0.113.5, true",         // allowlisted
        "203.0.113.0/24, true",      // a prefix around allowlisted addresses
        "169.254.1.1, true",         // link-local: never a global source
        "fe80::/64, true",
        "not-a-key, true"})
    void sparesAllowlistedAndTrustedRangesAndWhatIsNoGlobalKey(String key, boolean expected) {
        assertThat(spared.test(key)).isEqualTo(expected);
    }
}
