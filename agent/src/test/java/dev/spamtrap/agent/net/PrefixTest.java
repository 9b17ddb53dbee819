package dev.spamtrap.agent.net;

import dev.spamtrap.core.net.CidrRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PrefixTest {
    /** What the general parser makes of the text, or null when it refuses it. */
    private static Prefix general(String text) {
        try {
            CidrRange r = CidrRange.parse(text);
            return Prefix.of(r.network(), r.prefixLength());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Test
    void theFastIpv4PathAgreesWithTheGeneralParser() {
        List<String> texts = new ArrayList<>(List.of("1.2.3.4", "01.2.3.4", "001.002.003.004", "0001.2.3.4", "256.1.1.1",
            "255.255.255.255", "0.0.0.0", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", " 1.2.3.4", "1.2.3.4 ",
            "1.2.3.4/32", "1.2.3.4/24", "\u0661.2.3.4", "1.2.3.4a", "-1.2.3.4", "+1.2.3.4", "2001:db8::1", "[1.2.3.4]"));
        Random random = new Random(5);
        String alphabet = "0123456789.";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder s = new StringBuilder();
            for (int j = 7 + random.nextInt(9); j > 0; j--) {
                s.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            texts.add(s.toString());
        }
        for (int i = 0; i < 2_000; i++) {
            texts.add(random.nextInt(300) + "." + random.nextInt(256) + "." + random.nextInt(1000) + "." + random.nextInt(256));
        }
        int plain = 0;
        for (String t : texts) {
            Prefix expected = general(t);
            long bits = Prefix.plainIpv4Bits(t); // the reconcile's path that makes no object
            if (bits >= 0) {
                plain++;
                assertThat(expected).as(t).isNotNull();
                assertThat(Prefix.ipv4Host((int) bits)).as(t).isEqualTo(expected);
            } else {
                assertThat(bits).as(t).isEqualTo(-1);
            }
            if (expected == null) {
                assertThatThrownBy(() -> Prefix.parse(t)).as(t).isInstanceOf(IllegalArgumentException.class);
            } else {
                Prefix parsed = Prefix.parse(t);
                assertThat(parsed).as(t).isEqualTo(expected);
                assertThat(parsed.hashCode()).as(t).isEqualTo(expected.hashCode());
                assertThat(parsed.toString()).as(t).isEqualTo(expected.toString());
            }
        }
        assertThat(plain).as("texts taken by the plain IPv4 path").isGreaterThan(300);
        assertThat(Prefix.plainIpv4Bits("255.255.255.255")).isEqualTo(0xffffffffL);
    }

    /** IPv4 addresses are written without InetAddress; the text must be what InetAddress writes. */
    @Test
    void ipv4TextIsWhatInetAddressWrites() throws Exception {
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            byte[] b = new byte[4];
            random.nextBytes(b);
            int length = i % 3 == 0 ? random.nextInt(33) : 32;
            Prefix p = Prefix.of(b, length);
            String expected = java.net.InetAddress.getByAddress(dev.spamtrap.core.net.AddressBits.mask(b, length)).getHostAddress();
            assertThat(p.address()).isEqualTo(expected);
            assertThat(p.toString()).isEqualTo(length == 32 ? expected : expected + "/" + length);
        }
    }

    /** Neighbouring addresses (a reconcile's typical million) must not share hashes, or lookups walk tree bins. */
    @Test
    void neighbouringAddressesHashApart() {
        Set<Integer> hashes = new HashSet<>();
        int n = 1 << 16;
        for (int i = 0; i < n; i++) {
            hashes.add(Prefix.parse("10." + (i >> 8 & 255) + "." + (i & 255) + ".7").hashCode());
        }
        assertThat(hashes.size()).isGreaterThan(n - 10);
    }
}
