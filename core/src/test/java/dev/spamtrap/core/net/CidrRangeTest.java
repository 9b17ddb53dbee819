package dev.spamtrap.core.net;

import dev.spamtrap.core.config.ConfigException;
import dev.spamtrap.core.config.ListFiles;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CidrRangeTest {
    @Test
    void ipv4Prefix() throws Exception {
        CidrRange r = CidrRange.parse("192.0.2.0/24");
        assertThat(r.contains(InetAddress.getByName("192.0.2.77"))).isTrue();
        assertThat(r.contains(InetAddress.getByName("192.0.3.1"))).isFalse();
        assertThat(r.toString()).isEqualTo("192.0.2.0/24");
    }

    @Test
    void ipv6PrefixAndMappedAddresses() throws Exception {
        CidrRange r = CidrRange.parse("2001:db8::/32");
        assertThat(r.contains(InetAddress.getByName("2001:db8:1::5"))).isTrue();
        assertThat(r.contains(InetAddress.getByName("2001:db9::1"))).isFalse();
        assertThat(r.contains(InetAddress.getByName("192.0.2.1"))).isFalse();
        assertThat(CidrRange.parse("10.0.0.0/8").contains(InetAddress.getByName("::ffff:10.1.2.3"))).isTrue();
    }

    @Test
    void bareAddressIsOneHost() throws Exception {
        CidrRange r = CidrRange.parse("127.0.0.6");
        assertThat(r.contains(InetAddress.getByName("127.0.0.6"))).isTrue();
        assertThat(r.contains(InetAddress.getByName("127.0.0.7"))).isFalse();
    }

    @Test
    void refusesNamesAndBadPrefixesWithoutDns() {
        assertThatThrownBy(() -> CidrRange.parse("mail.example.com")).hasMessageContaining("not an IPv4 or IPv6");
        assertThatThrownBy(() -> CidrRange.parse("10.0.0.0/33")).hasMessageContaining("prefix length 33");
        assertThatThrownBy(() -> CidrRange.parse("10.0.0/8")).hasMessageContaining("not an IPv4");
        assertThatThrownBy(() -> CidrRange.parse("300.1.1.1")).hasMessageContaining("not an IPv4");
        assertThatThrownBy(() -> CidrRange.parse("::1/x")).hasMessageContaining("bad prefix length");
    }

    @Test
    void allowlistFileErrorsNameLine() throws Exception {
        Allowlist a = ListFiles.allowlist("allowlist.txt", List.of("# ok", "192.0.2.0/24", "2001:db8::/32 # v6"));
        assertThat(a.contains(InetAddress.getByName("2001:db8::1"))).isTrue();
        assertThat(a.contains(InetAddress.getByName("192.0.2.9"))).isTrue();
        assertThat(a.contains(InetAddress.getByName("198.51.100.1"))).isFalse();
        assertThatThrownBy(() -> ListFiles.allowlist("allowlist.txt", List.of("192.0.2.0/24", "nonsense")))
            .isInstanceOf(ConfigException.class).hasMessageStartingWith("allowlist.txt:2: ");
    }
}
