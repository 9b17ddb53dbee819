package dev.spamtrap.core.blocklist;

import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BlocklistParserTest {
    private static BlocklistParser.Result parse(String text) throws Exception {
        return BlocklistParser.parse(new StringReader(text), "test.txt");
    }

    private static boolean on(BlocklistParser.Result r, String address) throws Exception {
        return r.ranges().contains(InetAddress.getByName(address));
    }

    @Test
    void addressesPrefixesAndRangesWithCommentsAsSpamdSetupReadsThem() throws Exception {
        BlocklistParser.Result r = parse("# nixspam, generated 2026-12-06\n"
            + "\n"
            + "192.0.2.7\n"
            + "  198.51.100.0/24\n"
            + "203.0.113.10 - 203.0.113.20\n"
            + "203.0.113.30-203.0.113.31\n"
            + "   178.159.42.225   #  210     ntcsn.ru\n"
            + "100.64.0.0/30 ; SBL123\r\n"
            + "\t# indented comment\n");
        assertThat(r.entries()).isEqualTo(6);
        assertThat(r.badLines()).isZero();
        assertThat(on(r, "192.0.2.7")).isTrue();
        assertThat(on(r, "192.0.2.8")).isFalse();
        assertThat(on(r, "198.51.100.0")).isTrue();
        assertThat(on(r, "198.51.100.255")).isTrue();
        assertThat(on(r, "198.51.101.0")).isFalse();
        assertThat(on(r, "203.0.113.9")).isFalse();
        assertThat(on(r, "203.0.113.10")).isTrue();
        assertThat(on(r, "203.0.113.20")).isTrue();
        assertThat(on(r, "203.0.113.21")).isFalse();
        assertThat(on(r, "203.0.113.31")).isTrue();
        assertThat(on(r, "178.159.42.225")).isTrue();
        assertThat(on(r, "100.64.0.3")).isTrue();
        assertThat(on(r, "100.64.0.4")).isFalse();
    }

    @Test
    void theIpv4FastPathTakesExactlyWhatTheAddressParserTakes() {
        String[] texts = {"0.0.0.0", "255.255.255.255", "192.0.2.7", " 10.0.0.1 ", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1",
            "1.2.3.1000", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.a", "", "1.2.3.4x", "0001.2.3.4"};
        for (String t : texts) {
            long fast = BlocklistParser.parseV4(t, 0, t.length());
            java.util.Optional<byte[]> slow = dev.spamtrap.core.net.CidrRange.literal(t.trim());
            if (slow.isPresent() && slow.get().length == 4) {
                assertThat(fast).as(t).isEqualTo(AddressRanges.toInt(slow.get(), 0) & 0xFFFFFFFFL);
            } else {
                assertThat(fast).as(t).isEqualTo(-1L);
            }
        }
    }

    @Test
    void aRangeThatDoesNotAlignToAPrefixIsKeptExactly() throws Exception {
        BlocklistParser.Result r = parse("10.0.0.3 - 10.0.0.77\n");
        assertThat(on(r, "10.0.0.2")).isFalse();
        assertThat(on(r, "10.0.0.3")).isTrue();
        assertThat(on(r, "10.0.0.64")).isTrue();
        assertThat(on(r, "10.0.0.77")).isTrue();
        assertThat(on(r, "10.0.0.78")).isFalse();
        assertThat(r.ranges().ranges()).isEqualTo(1);
    }

    @Test
    void aPrefixWithHostBitsSetMeansItsNetwork() throws Exception {
        BlocklistParser.Result r = parse("192.0.2.77/24\n");
        assertThat(on(r, "192.0.2.0")).isTrue();
        assertThat(on(r, "192.0.2.255")).isTrue();
        assertThat(on(r, "192.0.3.0")).isFalse();
    }

    @Test
    void ipv6AddressesPrefixesAndRanges() throws Exception {
        BlocklistParser.Result r = parse("2001:db8::7\n2001:db8:1::/48\n2001:db8:2::10 - 2001:db8:2::1:0\n::/128\n");
        assertThat(r.entries()).isEqualTo(4);
        assertThat(on(r, "2001:db8::7")).isTrue();
        assertThat(on(r, "2001:db8::8")).isFalse();
        assertThat(on(r, "2001:db8:1:ffff:ffff:ffff:ffff:ffff")).isTrue();
        assertThat(on(r, "2001:db8:2::")).isFalse();
        assertThat(on(r, "2001:db8:2::f")).isFalse();
        assertThat(on(r, "2001:db8:2::10")).isTrue();
        assertThat(on(r, "2001:db8:2::ffff")).isTrue();
        assertThat(on(r, "2001:db8:2::1:0")).isTrue();
        assertThat(on(r, "2001:db8:2::1:1")).isFalse();
        assertThat(r.ranges().ipv6Ranges()).isEqualTo(4);
        assertThat(r.ranges().ipv4Ranges()).isZero();
    }

    @Test
    void badLinesAreSkippedAndReportedWithTheirNumbers() throws Exception {
        StringBuilder text = new StringBuilder();
        for (int i = 1; i <= 40; i++) {
            text.append("192.0.2.").append(i).append('\n');
        }
        text.append("mail.example.com\n"); // line 41: a name is never resolved
        text.append("192.0.2.300\n"); // 42
        text.append("192.0.2.9 - 2001:db8::1\n"); // 43
        text.append("192.0.2.20 - 192.0.2.10\n"); // 44
        text.append("not-an-address\n"); // 45
        for (int i = 41; i <= 60; i++) {
            text.append("192.0.2.").append(i).append('\n');
        }
        BlocklistParser.Result r = parse(text.toString());
        assertThat(r.entries()).isEqualTo(60);
        assertThat(r.badLines()).isEqualTo(5);
        assertThat(r.problems()).hasSize(5);
        assertThat(r.problems().get(4)).isEqualTo("test.txt:45: 'not-an-address' is not an address, prefix or range");
        assertThat(r.problems().get(0)).startsWith("test.txt:41: 'mail.example.com'");
        assertThat(r.problems().get(1)).startsWith("test.txt:42:");
        assertThat(r.problems().get(2)).startsWith("test.txt:43:").contains("mixes IPv4 and IPv6");
        assertThat(r.problems().get(3)).startsWith("test.txt:44:").contains("ends before it starts");
        assertThat(on(r, "192.0.2.40")).isTrue();
    }

    @Test
    void prefixLengthsOutOfRangeAreBadLines() throws Exception {
        StringBuilder text = new StringBuilder();
        for (int i = 1; i <= 60; i++) {
            text.append("192.0.2.").append(i).append('\n');
        }
        text.append("192.0.2.0/33\n2001:db8::/129\n192.0.2.0/\n192.0.2.0/x\n");
        BlocklistParser.Result r = parse(text.toString());
        assertThat(r.badLines()).isEqualTo(4);
        assertThat(r.problems().get(0)).contains("prefix length 33, allowed 0..32");
        assertThat(r.problems().get(1)).contains("prefix length 129, allowed 0..128");
    }

    @Test
    void onlyTheFirstBadLinesAreReportedOneByOne() throws Exception {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            text.append("10.0.").append(i / 256).append('.').append(i % 256).append('\n');
        }
        for (int i = 0; i < 50; i++) {
            text.append("bad").append(i).append('\n');
        }
        BlocklistParser.Result r = parse(text.toString());
        assertThat(r.badLines()).isEqualTo(50);
        assertThat(r.problems()).hasSize(BlocklistParser.REPORTED);
    }

    @Test
    void aLoadWithMoreThanTenPercentBadLinesIsRefused() {
        StringBuilder text = new StringBuilder();
        for (int i = 1; i <= 9; i++) {
            text.append("192.0.2.").append(i).append('\n');
        }
        text.append("nonsense\nmore nonsense\n"); // 2 of 11: above 10%
        assertThatThrownBy(() -> parse(text.toString())).isInstanceOf(BlocklistParser.LoadRefused.class)
            .hasMessageContaining("2 of 11 entry lines").hasMessageContaining("test.txt:10:");
    }

    @Test
    void anErrorPageIsRefusedAndAnEmptyListIsNot() throws Exception {
        assertThatThrownBy(() -> parse("<html>\n<body>Service unavailable</body>\n</html>\n"))
            .isInstanceOf(BlocklistParser.LoadRefused.class);
        BlocklistParser.Result empty = parse("# nothing listed today\n\n");
        assertThat(empty.entries()).isZero();
        assertThat(empty.ranges().ranges()).isZero();
    }
}
