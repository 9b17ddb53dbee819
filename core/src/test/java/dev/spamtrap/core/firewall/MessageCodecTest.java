package dev.spamtrap.core.firewall;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageCodecTest {
    static final FirewallKey KEY = FirewallKey.of("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
    static final String AGENT = "tcp:127.0.0.1:7625";
    final MessageCodec codec = new MessageCodec(KEY);

    private String encode(long millis, String nonce, FirewallCommand... commands) {
        return new String(codec.encode(List.of(commands), AGENT, millis, nonce), StandardCharsets.US_ASCII);
    }

    private SignedMessage decode(String text) throws MessageException {
        return codec.decode(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void roundTripsAMessageOfManyCommands() throws Exception {
        String text = encode(1_700_000_000_000L, "0123456789abcdef", FirewallCommand.block("192.0.2.7", 3600), FirewallCommand.unblock("2001:db8::/64"));
        String[] lines = text.split("\n", -1);
        assertThat(lines).hasSize(5);
        assertThat(lines[0]).isEqualTo("v3 tcp:127.0.0.1:7625 1700000000000 0123456789abcdef 2");
        assertThat(lines[1]).isEqualTo("BLOCK 192.0.2.7 3600");
        assertThat(lines[2]).isEqualTo("UNBLOCK 2001:db8::/64 0");
        assertThat(lines[3]).matches("[0-9a-f]{64}");
        assertThat(lines[4]).isEmpty();
        SignedMessage m = decode(text);
        assertThat(m.commands()).containsExactly(FirewallCommand.block("192.0.2.7", 3600), FirewallCommand.unblock("2001:db8::/64"));
        assertThat(m.timestampMillis()).isEqualTo(1_700_000_000_000L);
        assertThat(m.nonce()).isEqualTo("0123456789abcdef");
        assertThat(m.agent()).isEqualTo(AGENT);
        // CRLF line ends read the same
        assertThat(decode(text.replace("\n", "\r\n")).commands()).hasSize(2);
    }

    @Test
    void aDecoderReadsOneMessageAfterAnotherLineByLine() throws Exception {
        byte[] two = (encode(1, "0000000000000001", FirewallCommand.block("192.0.2.1", 60))
            + encode(2, "0000000000000002", FirewallCommand.block("192.0.2.2", 60), FirewallCommand.block("192.0.2.3", 60))).getBytes(StandardCharsets.US_ASCII);
        MessageCodec.Decoder d = codec.decoder();
        List<SignedMessage> got = new java.util.ArrayList<>();
        int start = 0;
        for (int i = 0; i < two.length; i++) {
            if (two[i] == '\n') {
                SignedMessage m = d.line(two, start, i);
                if (m != null) {
                    got.add(m);
                }
                start = i + 1;
            }
        }
        assertThat(got).extracting(SignedMessage::nonce).containsExactly("0000000000000001", "0000000000000002");
        assertThat(got.get(1).commands()).extracting(FirewallCommand::target).containsExactly("192.0.2.2", "192.0.2.3");
    }

    @Test
    void refusesAnotherKeyAndAnyAlteration() {
        MessageCodec other = new MessageCodec(FirewallKey.of("ffffffffffffffffffffffffffffffff".getBytes(StandardCharsets.US_ASCII)));
        String forged = new String(other.encode(List.of(FirewallCommand.block("192.0.2.7", 60)), AGENT, 1, "0123456789abcdef"), StandardCharsets.US_ASCII);
        assertKind(forged, MessageException.Kind.BAD_SIGNATURE, "bad signature");

        String good = encode(1, "0123456789abcdef", FirewallCommand.block("192.0.2.7", 60), FirewallCommand.block("192.0.2.9", 60));
        assertKind(good.replace("192.0.2.7", "192.0.2.8"), MessageException.Kind.BAD_SIGNATURE, "bad signature");
        assertKind(good.replace("192.0.2.9 60", "192.0.2.9 61"), MessageException.Kind.BAD_SIGNATURE, "bad signature");
        // commands swapped, one left out (count adjusted), the timestamp or nonce changed: all covered
        String swapped = good.replace("BLOCK 192.0.2.7 60\nBLOCK 192.0.2.9 60\n", "BLOCK 192.0.2.9 60\nBLOCK 192.0.2.7 60\n");
        assertThat(swapped).isNotEqualTo(good);
        assertKind(swapped, MessageException.Kind.BAD_SIGNATURE, "bad signature");
        assertKind(good.replace(" 2\nBLOCK 192.0.2.7 60\n", " 1\n"), MessageException.Kind.BAD_SIGNATURE, "bad signature");
        assertKind(good.replace(" 1 0123", " 2 0123"), MessageException.Kind.BAD_SIGNATURE, "bad signature");
        assertKind(good.replace("0123456789abcdef", "0123456789abcdee"), MessageException.Kind.BAD_SIGNATURE, "bad signature");
    }

    @Test
    void refusesMalformedMessagesNamingTheField() {
        String good = encode(1, "0123456789abcdef", FirewallCommand.block("192.0.2.7", 60));
        assertKind(good.replace("v3 ", "v4 "), MessageException.Kind.MALFORMED, "unknown version 'v4'");
        assertKind("v2 " + AGENT + " 1 0123456789abcdef BLOCK 192.0.2.7 60 " + "0".repeat(64) + "\n", MessageException.Kind.MALFORMED,
            "version v2 (one command per line) is no longer accepted (expected v3: update James's spamtrap jar)");
        // the agent's name is signed: a message re-addressed to another agent fails its signature
        assertKind(good.replace(AGENT, "tcp:127.0.0.1:7626"), MessageException.Kind.BAD_SIGNATURE, "bad signature");
        assertKind(good.replace("BLOCK", "BLOCKX"), MessageException.Kind.MALFORMED, "command 1: unknown command 'BLOCKX'");
        assertKind(good.replace(" 1 ", " 1x "), MessageException.Kind.MALFORMED, "bad timestamp '1x'");
        assertKind(good.replace("0123456789abcdef", "0123"), MessageException.Kind.MALFORMED, "bad nonce '0123'");
        assertKind(good.replace("0123456789abcdef 1\n", "0123456789abcdef 0\n"), MessageException.Kind.MALFORMED, "bad count '0'");
        assertKind(good.replace("0123456789abcdef 1\n", "0123456789abcdef 1001\n"), MessageException.Kind.MALFORMED, "bad count '1001'");
        assertKind(good.replace("192.0.2.7", "mail.example.com"), MessageException.Kind.MALFORMED, "command 1: malformed address or prefix 'mail.example.com'");
        assertKind(good.replace("v3 tcp", "v3  tcp"), MessageException.Kind.MALFORMED, "expected a header of 5 fields");
        assertKind(good.replace("BLOCK 192.0.2.7", "BLOCK  192.0.2.7"), MessageException.Kind.MALFORMED, "command 1: expected 3 fields");
        assertKind(good.replace(" 60\n", " 60 extra\n"), MessageException.Kind.MALFORMED, "command 1: expected 3 fields");
        assertKind(good.replace(" 60\n", " 6o\n"), MessageException.Kind.MALFORMED, "command 1: bad ttl '6o'");
        assertKind(good.substring(0, good.length() - 2) + "\n", MessageException.Kind.MALFORMED, "bad hmac line");
        assertKind(good.replace("v3 tcp", "v3 t\u0000cp"), MessageException.Kind.MALFORMED, "not printable ASCII");
        assertKind(good.substring(0, good.length() - 65), MessageException.Kind.MALFORMED, "incomplete message");
        assertKind(good + good, MessageException.Kind.MALFORMED, "text after the end of the message");
        assertKind("\n", MessageException.Kind.MALFORMED, "expected a header of 5 fields");
    }

    @Test
    void aDecoderStaysInStepAfterARefusedMessageWhoseLinesWereCountedAndNotAfterABadHeaderOrHmacLine() throws Exception {
        MessageCodec.Decoder d = codec.decoder();
        feedExpectingRefusal(d, encode(1, "0123456789abcdef", FirewallCommand.block("192.0.2.7", 60)).replace("BLOCK", "BLOCKX"), "unknown command");
        assertThat(d.inStep()).isTrue();
        assertThat(d.nonce()).isEqualTo("0123456789abcdef");
        feedExpectingRefusal(d, encode(1, "0123456789abcdef", FirewallCommand.block("192.0.2.7", 60)).replace("192.0.2.7", "192.0.2.8"), "bad signature");
        assertThat(d.inStep()).isTrue();
        assertThat(feed(d, encode(1, "00000000000000ff", FirewallCommand.block("192.0.2.7", 60))).nonce()).isEqualTo("00000000000000ff");

        feedExpectingRefusal(d, "v3 nonsense\n", "expected a header");
        assertThat(d.inStep()).isFalse();
        assertThat(d.nonce()).isEqualTo("-");
        MessageCodec.Decoder e = codec.decoder();
        String shortCount = encode(1, "0123456789abcdef", FirewallCommand.block("192.0.2.7", 60), FirewallCommand.block("192.0.2.8", 60))
            .replace("0123456789abcdef 2\n", "0123456789abcdef 1\n"); // the second command is read where the HMAC line belongs
        feedExpectingRefusal(e, shortCount, "bad hmac line");
        assertThat(e.inStep()).isFalse();
    }

    private static SignedMessage feed(MessageCodec.Decoder d, String text) throws MessageException {
        byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
        int start = 0;
        SignedMessage last = null;
        for (int i = 0; i < b.length; i++) {
            if (b[i] == '\n') {
                last = d.line(b, start, i);
                start = i + 1;
            }
        }
        return last;
    }

    private static void feedExpectingRefusal(MessageCodec.Decoder d, String text, String reason) {
        assertThatThrownBy(() -> feed(d, text)).isInstanceOf(MessageException.class).hasMessageContaining(reason);
    }

    @Test
    void refusesOversizedLines() {
        assertKind("v3 " + "1".repeat(600) + "\n", MessageException.Kind.OVERSIZED, "longer than the limit of 512");
    }

    @Test
    void refusesTtlOutOfRangeEvenWhenSigned() {
        String body = "v3 " + AGENT + " 1 0123456789abcdef 1\nBLOCK 192.0.2.7 0\n";
        assertKind(new String(codec.signed(body.getBytes(StandardCharsets.US_ASCII)), StandardCharsets.US_ASCII), MessageException.Kind.MALFORMED,
            "command 1: ttl 0 out of range");
        String unblock = "v3 " + AGENT + " 1 0123456789abcdef 1\nUNBLOCK 192.0.2.7 5\n";
        assertKind(new String(codec.signed(unblock.getBytes(StandardCharsets.US_ASCII)), StandardCharsets.US_ASCII), MessageException.Kind.MALFORMED,
            "ttl must be 0 for UNBLOCK");
    }

    @Test
    void encodingRefusesEmptyAndOverfullMessages() {
        assertThatThrownBy(() -> codec.encode(List.of(), AGENT, 1, "0123456789abcdef")).hasMessageContaining("1..1000 commands, not 0");
        List<FirewallCommand> many = java.util.Collections.nCopies(1001, FirewallCommand.block("192.0.2.1", 1));
        assertThatThrownBy(() -> codec.encode(many, AGENT, 1, "0123456789abcdef")).hasMessageContaining("not 1001");
    }

    @Test
    void commandsRefuseTargetsThatAreNotAddresses() {
        assertThatThrownBy(() -> FirewallCommand.block("a b", 5)).hasMessageContaining("'a b' is not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> FirewallCommand.block("192.0.2.1", 0)).hasMessageContaining("out of range");
    }

    private void assertKind(String text, MessageException.Kind kind, String reason) {
        assertThatThrownBy(() -> decode(text)).isInstanceOfSatisfying(MessageException.class,
            e -> assertThat(e.kind()).isEqualTo(kind)).hasMessageContaining(reason);
    }
}
