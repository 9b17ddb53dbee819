package dev.spamtrap.core.net;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;

class IpAddressesTest {
    @Test
    void canonicalSpellings() throws Exception {
        assertThat(IpAddresses.canonical(InetAddress.getByName("192.0.2.1"))).isEqualTo("192.0.2.1");
        assertThat(IpAddresses.canonical(InetAddress.getByName("2001:DB8:0:0:0:0:0:1"))).isEqualTo("2001:db8::1");
        assertThat(IpAddresses.canonical(InetAddress.getByName("::1"))).isEqualTo("::1");
        assertThat(IpAddresses.canonical(InetAddress.getByName("::"))).isEqualTo("::");
        assertThat(IpAddresses.canonical(InetAddress.getByName("2001:db8:0:1:0:0:0:1"))).isEqualTo("2001:db8:0:1::1");
        assertThat(IpAddresses.canonical(InetAddress.getByName("2001:0:0:1:0:0:0:1"))).isEqualTo("2001:0:0:1::1");
        assertThat(IpAddresses.canonical(InetAddress.getByName("2001:db8:1:1:1:1:0:1"))).isEqualTo("2001:db8:1:1:1:1:0:1");
        assertThat(IpAddresses.canonical(InetAddress.getByName("fe80::1%1"))).isEqualTo("fe80::1");
        assertThat(IpAddresses.canonical("::ffff:10.1.2.3")).isEqualTo("10.1.2.3");
    }
}
