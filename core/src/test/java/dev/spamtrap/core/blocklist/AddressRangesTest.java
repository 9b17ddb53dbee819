package dev.spamtrap.core.blocklist;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class AddressRangesTest {
    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    private static int v4(String literal) throws Exception {
        return AddressRanges.toInt(ip(literal).getAddress(), 0);
    }

    @Test
    void anEmptySetHoldsNothing() throws Exception {
        assertThat(AddressRanges.EMPTY.contains(ip("0.0.0.0"))).isFalse();
        assertThat(AddressRanges.EMPTY.contains(ip("::"))).isFalse();
        assertThat(new AddressRanges.Builder().build().ranges()).isZero();
    }

    @Test
    void aRangeHoldsBothEndsAndNothingBesideThem() throws Exception {
        AddressRanges r = new AddressRanges.Builder().addV4(v4("192.0.2.10"), v4("192.0.2.20")).build();
        assertThat(r.contains(ip("192.0.2.9"))).isFalse();
        assertThat(r.contains(ip("192.0.2.10"))).isTrue();
        assertThat(r.contains(ip("192.0.2.15"))).isTrue();
        assertThat(r.contains(ip("192.0.2.20"))).isTrue();
        assertThat(r.contains(ip("192.0.2.21"))).isFalse();
    }

    @Test
    void addressesAboveTheSignBitAndTheWholeSpaceEdgesAreFound() throws Exception {
        AddressRanges r = new AddressRanges.Builder()
            .addV4(v4("255.255.255.255"), v4("255.255.255.255"))
            .addV4(v4("0.0.0.0"), v4("0.0.0.0"))
            .addV4(v4("128.0.0.0"), v4("128.0.0.1"))
            .addV4(v4("127.255.255.255"), v4("127.255.255.255"))
            .build();
        assertThat(r.contains(ip("255.255.255.255"))).isTrue();
        assertThat(r.contains(ip("255.255.255.254"))).isFalse();
        assertThat(r.contains(ip("0.0.0.0"))).isTrue();
        assertThat(r.contains(ip("0.0.0.1"))).isFalse();
        // 127.255.255.255 touches 128.0.0.0: one range across the sign bit
        assertThat(r.ipv4Ranges()).isEqualTo(3);
        assertThat(r.contains(ip("127.255.255.255"))).isTrue();
        assertThat(r.contains(ip("128.0.0.1"))).isTrue();
        assertThat(r.contains(ip("128.0.0.2"))).isFalse();
        assertThat(r.contains(ip("127.255.255.254"))).isFalse();
    }

    @Test
    void overlappingTouchingAndNestedRangesAreMergedAndDisjointOnesKept() throws Exception {
        AddressRanges r = new AddressRanges.Builder()
            .addV4(v4("10.0.0.0"), v4("10.0.0.255"))
            .addV4(v4("10.0.0.100"), v4("10.0.1.10")) // overlaps
            .addV4(v4("10.0.1.11"), v4("10.0.1.20")) // touches
            .addV4(v4("10.0.0.5"), v4("10.0.0.6")) // nested
            .addV4(v4("10.0.1.22"), v4("10.0.1.22")) // a gap of one address
            .build();
        assertThat(r.ipv4Ranges()).isEqualTo(2);
        assertThat(r.ipv4Range(0)).isEqualTo("10.0.0.0-10.0.1.20");
        assertThat(r.ipv4Range(1)).isEqualTo("10.0.1.22-10.0.1.22");
        assertThat(r.contains(ip("10.0.1.21"))).isFalse();
    }

    @Test
    void ipv6RangesAreFoundAcrossTheLow64BitsAndItsSignBits() throws Exception {
        AddressRanges.Builder b = new AddressRanges.Builder();
        byte[] f = ip("2001:db8::ffff:ffff:ffff:fff0").getAddress();
        byte[] l = ip("2001:db8:0:1::10").getAddress();
        b.addV6(AddressRanges.toLong(f, 0), AddressRanges.toLong(f, 8), AddressRanges.toLong(l, 0), AddressRanges.toLong(l, 8));
        byte[] top = ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").getAddress();
        b.addV6(-1L, -1L, -1L, -1L);
        b.addV6(AddressRanges.toLong(top, 0), AddressRanges.toLong(top, 8) - 1, -1L, -1L); // touches the last address
        AddressRanges r = b.build();
        assertThat(r.ipv6Ranges()).isEqualTo(2);
        assertThat(r.contains(ip("2001:db8::ffff:ffff:ffff:ffef"))).isFalse();
        assertThat(r.contains(ip("2001:db8::ffff:ffff:ffff:fff0"))).isTrue();
        assertThat(r.contains(ip("2001:db8::8000:0:0:0"))).isFalse();
        assertThat(r.contains(ip("2001:db8:0:1::"))).isTrue();
        assertThat(r.contains(ip("2001:db8:0:1::10"))).isTrue();
        assertThat(r.contains(ip("2001:db8:0:1::11"))).isFalse();
        assertThat(r.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"))).isTrue();
        assertThat(r.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd"))).isFalse();
        assertThat(r.contains(ip("::"))).isFalse();
    }

    @Test
    void anIpv4MappedClientIsLookedUpAsIpv4AndTheFamiliesNeverMix() throws Exception {
        AddressRanges r = new AddressRanges.Builder().addV4(v4("192.0.2.1"), v4("192.0.2.1")).build();
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(ip("192.0.2.1").getAddress(), 0, mapped, 12, 4);
        assertThat(r.contains(java.net.Inet6Address.getByAddress(null, mapped, -1))).isTrue();
        // ::c000:201 (the same 32 bits, not mapped) is an IPv6 address
        assertThat(r.contains(ip("::c000:201"))).isFalse();
    }

    @Test
    void randomRangesAgreeWithAPlainModel() throws Exception {
        Random random = new Random(18);
        AddressRanges.Builder b = new AddressRanges.Builder();
        TreeMap<Long, Long> model = new TreeMap<>();
        for (int i = 0; i < 5000; i++) {
            long first = (random.nextInt(1 << 20)) & 0xFFFFFFFFL;
            long last = first + random.nextInt(40);
            b.addV4((int) first, (int) last);
            for (long a = first; a <= last; a++) {
                model.put(a, a);
            }
        }
        AddressRanges r = b.build();
        for (int i = 0; i < 100_000; i++) {
            long a = random.nextInt((1 << 20) + 64);
            assertThat(r.containsV4((int) a)).as("address %d", a).isEqualTo(model.containsKey(a));
        }
    }
}
