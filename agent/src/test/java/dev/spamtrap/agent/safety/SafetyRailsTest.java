package dev.spamtrap.agent.safety;

import dev.spamtrap.agent.net.Prefix;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The rails' IPv4 check (ints and masks) against the general {@link Prefix#overlaps} over random ranges and targets. */
class SafetyRailsTest {
    @Test
    void anIpv4TargetIsRefusedExactlyWhenItOverlapsAProtectedRange() {
        Random random = new Random(3);
        List<Prefix> protectedRanges = new ArrayList<>();
        SafetyRails.Builder b = new SafetyRails.Builder().minPrefix(0, 0);
        for (int i = 0; i < 12; i++) {
            Prefix p = Prefix.of(new byte[] {10, (byte) random.nextInt(4), (byte) random.nextInt(256), (byte) random.nextInt(256)}, 8 + random.nextInt(25));
            protectedRanges.add(p);
            b.protect(p, "test range " + i);
        }
        b.protect(Prefix.parse("2001:db8::/32"), "test v6");
        SafetyRails rails = b.build();
        for (int i = 0; i < 50_000; i++) {
            Prefix target = Prefix.of(new byte[] {10, (byte) random.nextInt(4), (byte) random.nextInt(256), (byte) random.nextInt(256)}, random.nextInt(33));
            boolean expected = protectedRanges.stream().anyMatch(p -> p.overlaps(target)) || target.length() < 8;
            assertThat(rails.refusal(target).isPresent()).as(target.toString()).isEqualTo(expected);
            if (target.length() == 32) {
                assertThat(rails.allowsHost4(target.ipv4Bits())).as("the reconcile's int check of " + target).isEqualTo(!expected);
            }
        }
        SafetyRails defaults = new SafetyRails.Builder().ownAddresses(List.of(java.net.InetAddress.getLoopbackAddress())).build();
        for (String s : List.of("127.0.0.1", "127.255.0.9", "0.0.0.0", "192.0.2.1", "10.1.2.3")) {
            assertThat(defaults.allowsHost4(Prefix.parse(s).ipv4Bits())).as(s).isEqualTo(defaults.refusal(Prefix.parse(s)).isEmpty());
        }
        assertThat(new SafetyRails.Builder().protect(Prefix.parse("192.0.2.1"), "own").build().allowsHost4(Prefix.parse("192.0.2.1").ipv4Bits())).isFalse();
        assertThat(rails.refusal(Prefix.parse("2001:db8:5::1"))).isPresent();
        assertThat(rails.refusal(Prefix.parse("2001:db9::1"))).isEmpty();
    }
}
