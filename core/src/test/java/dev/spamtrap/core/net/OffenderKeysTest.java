package dev.spamtrap.core.net;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OffenderKeysTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "2001:db8::7,                      2001:db8::/64",
        "2001:DB8:0:0:0:0:0:7,             2001:db8::/64",
        "[2001:db8::ffff:1],               2001:db8::/64",
        "2001:db8::7/128,                  2001:db8::/64",
        "2001:db8::/64,                    2001:db8::/64",
        "2001:db8:0:0:0:0:0:0/64,          2001:db8::/64",
        "2001:0db8:0000:0000:0000:0000:0000:0000/64, 2001:db8::/64",
        "2001:db8::1/64,                   2001:db8::/64",
        "2001:db8:0:1::/48,                2001:db8::/48",
        "192.0.2.7,                        192.0.2.7",
        "192.0.2.7/32,                     192.0.2.7",
        "192.0.2.7/24,                     192.0.2.0/24",
        "::ffff:192.0.2.7,                 192.0.2.7",
        // non-global sources are never widened
        "fe80::10,                         fe80::10",
        "FE80:0:0:0:0:0:0:10,              fe80::10",
        "ff02::1,                          ff02::1",
        "::,                               ::",
    })
    void everySpellingGivesTheOneKey(String spelling, String key) {
        assertThat(OffenderKeys.DEFAULT.canonicalKey(spelling)).isEqualTo(key);
    }

    @Test
    void clientsKeys() throws Exception {
        assertThat(OffenderKeys.DEFAULT.keyOf(InetAddress.getByName("2001:db8:0:0:1:2:3:4"))).isEqualTo("2001:db8::/64");
        assertThat(OffenderKeys.DEFAULT.keyOf(InetAddress.getByName("fe80::1:2"))).isEqualTo("fe80::1:2");
        assertThat(new OffenderKeys(128).keyOf(InetAddress.getByName("2001:db8::5"))).isEqualTo("2001:db8::5");
    }

    @Test
    void globalSources() throws Exception {
        assertThat(IpAddresses.isGlobalSource(InetAddress.getByName("fe80::10"))).isFalse();
        assertThat(IpAddresses.isGlobalSource(InetAddress.getByName("169.254.1.1"))).isFalse();
        assertThat(IpAddresses.isGlobalSource(InetAddress.getByName("::"))).isFalse();
        assertThat(IpAddresses.isGlobalSource(InetAddress.getByName("0.0.0.0"))).isFalse();
        assertThat(IpAddresses.isGlobalSource(InetAddress.getByName("ff02::1"))).isFalse();
        assertThat(IpAddresses.isGlobalSource(InetAddress.getByName("224.0.0.1"))).isFalse();
        assertThat(IpAddresses.isGlobalSource(InetAddress.getByName("2001:db8::1"))).isTrue();
        assertThat(IpAddresses.isGlobalSource(InetAddress.getByName("192.0.2.1"))).isTrue();
    }

    @Test
    void prefixesAreSpelledCompressed() {
        assertThat(CidrRange.parse("2001:0DB8:0:0:0:0:0:0/32").toString()).isEqualTo("2001:db8::/32");
        assertThat(CidrRange.parse("192.0.2.9/24").toString()).isEqualTo("192.0.2.0/24");
    }

    @Test
    void notAnAddress() {
        assertThatThrownBy(() -> OffenderKeys.DEFAULT.canonicalKey("mail.example.com")).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("mail.example.com");
    }
}
