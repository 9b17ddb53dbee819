package dev.spamtrap.core.firewall;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageCodecTest {
    static final FirewallKey KEY = FirewallKey.of("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
    static final String AGENT = "tcp:127.0.0.1:7625";
    final MessageCodec codec = new MessageCodec(KEY);

    @Test
    void roundTripsBlockAndUnblock() throws Exception {
        String line = codec.encode(FirewallCommand.block("192.0.2.7", 3600), AGENT, 1_700_000_000_000L, "0123456789abcdef");
        assertThat(line).startsWith("v2 tcp:127.0.0.1:7625 1700000000000 0123456789abcdef BLOCK 192.0.2.7 3600 ").hasSize(line.lastIndexOf(' ') + 65);
        SignedMessage m = codec.decode(line);
        assertThat(m.command()).isEqualTo(FirewallCommand.block("192.0.2.7", 3600));
        assertThat(m.timestampMillis()).isEqualTo(1_700_000_000_000L);
        assertThat(m.nonce()).isEqualTo("0123456789abcdef");
        assertThat(m.agent()).isEqualTo(AGENT);

        SignedMessage u = codec.decode(codec.encode(FirewallCommand.unblock("2001:db8::/64"), AGENT, 5, MessageCodec.newNonce()));
        assertThat(u.command().action()).isEqualTo(FirewallCommand.Action.UNBLOCK);
        assertThat(u.command().target()).isEqualTo("2001:db8::/64");
        assertThat(u.command().ttlSeconds()).isZero();
    }

    @Test
    void refusesAnotherKeyAndAnyAlteration() {
        MessageCodec other = new MessageCodec(FirewallKey.of("ffffffffffffffffffffffffffffffff".getBytes(StandardCharsets.US_ASCII)));
        String forged = other.encode(FirewallCommand.block("192.0.2.7", 60), AGENT, 1, "0123456789abcdef");
        assertKind(forged, MessageException.Kind.BAD_SIGNATURE, "bad signature");

        String good = codec.encode(FirewallCommand.block("192.0.2.7", 60), AGENT, 1, "0123456789abcdef");
        assertKind(good.replace("192.0.2.7", "192.0.2.8"), MessageException.Kind.BAD_SIGNATURE, "bad signature");
        assertKind(good.replace(" 60 ", " 61 "), MessageException.Kind.BAD_SIGNATURE, "bad signature");
    }

    @Test
    void refusesMalformedLinesNamingTheField() {
        String good = codec.encode(FirewallCommand.block("192.0.2.7", 60), AGENT, 1, "0123456789abcdef");
        assertKind(good.replace("v2 ", "v3 "), MessageException.Kind.MALFORMED, "unknown version 'v3'");
        assertKind(good.replace("v2 " + AGENT + " ", "v1 "), MessageException.Kind.MALFORMED, "version v1 names no agent");
        // the agent's name is signed: a message re-addressed to another agent fails its signature
        assertKind(good.replace(AGENT, "tcp:127.0.0.1:7626"), MessageException.Kind.BAD_SIGNATURE, "bad signature");
        assertKind(good.replace("BLOCK", "BLOCKX"), MessageException.Kind.MALFORMED, "unknown command 'BLOCKX'");
        assertKind(good.replace(" 1 ", " 1x "), MessageException.Kind.MALFORMED, "bad timestamp '1x'");
        assertKind(good.replace("0123456789abcdef", "0123"), MessageException.Kind.MALFORMED, "bad nonce '0123'");
        assertKind(good.replace("192.0.2.7", "mail.example.com"), MessageException.Kind.MALFORMED, "malformed address or prefix 'mail.example.com'");
        assertKind(good.replace(" ", "  "), MessageException.Kind.MALFORMED, "expected 8 fields");
        assertKind(good + " extra", MessageException.Kind.MALFORMED, "expected 8 fields");
        assertKind(good.substring(0, good.length() - 1), MessageException.Kind.MALFORMED, "bad hmac");
        assertKind(good.replace("BLOCK", "BL\u0000CK"), MessageException.Kind.MALFORMED, "not printable ASCII");
        assertKind("", MessageException.Kind.MALFORMED, "expected 8 fields");
    }

    @Test
    void refusesOversizedLines() {
        assertKind("v2 " + "1".repeat(600), MessageException.Kind.OVERSIZED, "longer than the limit of 512");
    }

    @Test
    void refusesTtlOutOfRangeEvenWhenSigned() {
        String body = "v2 " + AGENT + " 1 0123456789abcdef BLOCK 192.0.2.7 0";
        assertKind(body + " " + codec.sign(body), MessageException.Kind.MALFORMED, "ttl 0 out of range");
        String unblock = "v2 " + AGENT + " 1 0123456789abcdef UNBLOCK 192.0.2.7 5";
        assertKind(unblock + " " + codec.sign(unblock), MessageException.Kind.MALFORMED, "ttl must be 0 for UNBLOCK");
    }

    @Test
    void commandsRefuseTargetsThatAreNotAddresses() {
        assertThatThrownBy(() -> FirewallCommand.block("a b", 5)).hasMessageContaining("'a b' is not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> FirewallCommand.block("192.0.2.1", 0)).hasMessageContaining("out of range");
    }

    private void assertKind(String line, MessageException.Kind kind, String text) {
        assertThatThrownBy(() -> codec.decode(line)).isInstanceOfSatisfying(MessageException.class,
            e -> assertThat(e.kind()).isEqualTo(kind)).hasMessageContaining(text);
    }
}
