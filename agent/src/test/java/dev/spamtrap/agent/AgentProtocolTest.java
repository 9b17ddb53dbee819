package dev.spamtrap.agent;

import dev.spamtrap.core.firewall.FirewallCommand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The channel and the safety rails, end to end through the socket, with a recording runner in place of nft. */
class AgentProtocolTest {
    @TempDir
    Path dir;
    LogCapture log;
    TestAgent t;

    @BeforeEach
    void start() throws Exception {
        log = new LogCapture();
        Files.writeString(dir.resolve("allow.txt"), "# partners\n198.51.100.0/24\n");
        t = new TestAgent(dir, Map.of("allowlist.file", "allow.txt", "breaker.maxNewBlocksPerMinute", "5", "message.maxAge", "30s"),
            new FakeRunner(), null, List.of(InetAddress.getByName("203.0.113.10")));
    }

    @AfterEach
    void stop() {
        t.close();
        log.close();
    }

    /** Commands that reached the firewall after start (the first call creates the table). */
    private String applied() {
        List<FakeRunner.Call> calls = t.runner.snapshot();
        StringBuilder b = new StringBuilder();
        for (FakeRunner.Call c : calls.subList(1, calls.size())) {
            b.append(c.stdin);
        }
        return b.toString();
    }

    @Test
    void startCreatesTableAndSetsIdempotently() {
        FakeRunner.Call first = t.runner.calls.get(0);
        assertThat(first.argv).containsExactly("nft", "-f", "-");
        assertThat(first.stdin).contains("add table inet spamtrap", "flags interval, timeout", "flush chain inet spamtrap prerouting",
            "hook prerouting priority -150", "tcp dport { 25 } ct state new ip saddr @block4 counter drop",
            "ct state new ip saddr @wide4 counter drop", "ct state new ip6 saddr & ffff:ffff:ffff:ffff:: @block6 counter drop",
            "ct state new ip6 saddr @wide6 counter drop");
    }

    @Test
    void goodCommandIsApplied() throws Exception {
        String line = t.sign(FirewallCommand.block("192.0.2.7", 3600));
        String nonce = line.split(" ")[3];
        assertThat(t.sendOne(line)).isEqualTo("OK " + nonce + " blocked for 3600 s");
        assertThat(applied()).contains("add element inet spamtrap block4 { 192.0.2.7 timeout 3600s }");
        assertThat(t.sendOne(t.sign(FirewallCommand.block("2001:db8:1::/48", 60)))).startsWith("OK ");
        assertThat(applied()).contains("add element inet spamtrap wide6 { 2001:db8:1:0:0:0:0:0/48 timeout 60s }");
        assertThat(t.sendOne(t.sign(FirewallCommand.block("2001:db8:2:3::/64", 60)))).startsWith("OK ");
        assertThat(applied()).contains("add element inet spamtrap block6 { 2001:db8:2:3:0:0:0:0 timeout 60s }");
        assertThat(t.sendOne(t.sign(FirewallCommand.block("192.0.2.7", 7200)))).endsWith("block refreshed for 7200 s");
        assertThat(applied()).contains("delete element inet spamtrap block4 { 192.0.2.7 }\nadd element inet spamtrap block4 { 192.0.2.7 timeout 7200s }");
        assertThat(t.sendOne(t.sign(FirewallCommand.unblock("192.0.2.7")))).endsWith("unblocked");
        assertThat(log.text()).contains("BLOCK 192.0.2.7 from tcp:127.0.0.1:", "blocked for 3600 s");
        assertThat(t.agent.applier().size()).isEqualTo(2);
    }

    @Test
    void badSignatureIsRefusedAndNothingApplied() throws Exception {
        String good = t.sign(FirewallCommand.block("192.0.2.7", 3600));
        String forged = good.substring(0, good.length() - 64) + "0".repeat(64);
        assertThat(t.sendOne(forged)).startsWith("ERR " + good.split(" ")[3] + " bad signature");
        assertThat(applied()).isEmpty();
        assertThat(log.text()).containsPattern("REFUSED message from tcp:127\\.0\\.0\\.1:\\d+ \\(bad signature\\): bad signature");
    }

    @Test
    void aMessageSignedForAnotherAgentIsRefused() throws Exception {
        // the same key, another agent (say the next host's): captured there, replayed here
        String elsewhere = t.codec.encode(FirewallCommand.block("192.0.2.7", 3600), "tcp:127.0.0.1:7999", System.currentTimeMillis(), "00000000000000ac");
        assertThat(t.sendOne(elsewhere)).startsWith("ERR 00000000000000ac message signed for agent 'tcp:127.0.0.1:7999', this is " + t.endpoint());
        assertThat(applied()).isEmpty();
        assertThat(log.text()).contains("(wrong agent): message signed for agent");
        // and the nonce was not burnt: the real message with it still applies
        String here = t.codec.encode(FirewallCommand.block("192.0.2.7", 3600), t.endpoint(), System.currentTimeMillis(), "00000000000000ac");
        assertThat(t.sendOne(here)).startsWith("OK 00000000000000ac");
    }

    @Test
    void staleMessageIsRefused() throws Exception {
        String stale = t.codec.encode(FirewallCommand.block("192.0.2.7", 3600), t.endpoint(), System.currentTimeMillis() - 31_000, "00000000000000aa");
        assertThat(t.sendOne(stale)).startsWith("ERR 00000000000000aa stale message: signed");
        String future = t.codec.encode(FirewallCommand.block("192.0.2.7", 3600), t.endpoint(), System.currentTimeMillis() + 60_000, "00000000000000ab");
        assertThat(t.sendOne(future)).contains("in the future");
        assertThat(applied()).isEmpty();
        assertThat(log.text()).contains("(stale): stale message: signed");
    }

    @Test
    void replayedNonceIsRefused() throws Exception {
        String line = t.sign(FirewallCommand.block("192.0.2.7", 3600));
        assertThat(t.sendOne(line)).startsWith("OK ");
        int calls = t.runner.calls.size();
        assertThat(t.sendOne(line)).contains("replayed message: nonce");
        assertThat(t.runner.calls).hasSize(calls);
        assertThat(log.text()).contains("(replayed): replayed message: nonce " + line.split(" ")[3]);
    }

    @Test
    void malformedAddressesAreRefusedByName() throws Exception {
        assertThat(t.sendOne(t.sign(FirewallCommand.block("300.1.2.3", 60))))
            .contains("malformed address or prefix: '300.1.2.3' is not an IPv4 or IPv6 address or prefix");
        assertThat(t.sendOne(t.sign(FirewallCommand.block("192.0.2.0/33", 60)))).contains("'192.0.2.0/33' has prefix length 33");
        String named = t.sign(FirewallCommand.block("192.0.2.7", 60)).replace("192.0.2.7", "mx.example.org");
        assertThat(t.sendOne(named)).contains("malformed address or prefix 'mx.example.org'");
        assertThat(t.sendOne("BLOCK 192.0.2.7")).startsWith("ERR - expected 8 fields");
        assertThat(applied()).isEmpty();
        assertThat(log.text()).contains("'300.1.2.3' is not an IPv4 or IPv6 address", "'mx.example.org'");
    }

    @Test
    void oversizedMessageIsRefusedAndConnectionClosed() throws Exception {
        List<String> replies = t.send("v2 " + "9".repeat(700), t.sign(FirewallCommand.block("192.0.2.7", 60)));
        assertThat(replies).containsExactly("ERR - message longer than 512 bytes");
        assertThat(applied()).isEmpty();
        assertThat(log.text()).contains("(oversized): longer than 512 bytes; nothing applied");
    }

    @Test
    void protectedAddressesAreNeverBlocked() throws Exception {
        assertThat(t.sendOne(t.sign(FirewallCommand.block("198.51.100.9", 60)))).contains("is allowlisted (198.51.100.0/24 in");
        assertThat(t.sendOne(t.sign(FirewallCommand.block("127.0.0.5", 60)))).contains("127.0.0.5 is loopback");
        assertThat(t.sendOne(t.sign(FirewallCommand.block("::1", 60)))).contains("is loopback");
        assertThat(t.sendOne(t.sign(FirewallCommand.block("203.0.113.10", 60)))).contains("this server's own address 203.0.113.10");
        assertThat(t.sendOne(t.sign(FirewallCommand.block("203.0.113.0/24", 60)))).contains("203.0.113.0/24 contains this server's own address");
        assertThat(t.sendOne(t.sign(FirewallCommand.block("10.0.0.0/8", 60)))).contains("broader than the smallest allowed prefix /24");
        assertThat(applied()).isEmpty();
        assertThat(log.text()).contains("REFUSED message from", "(protected): 198.51.100.9 is allowlisted", "127.0.0.5 is loopback");
    }

    @Test
    void circuitBreakerStopsNewBlocksLoudly() throws Exception {
        String[] lines = new String[8];
        for (int i = 0; i < lines.length; i++) {
            lines[i] = t.sign(FirewallCommand.block("192.0.2." + (i + 1), 60));
        }
        List<String> replies = t.send(lines);
        assertThat(replies.stream().filter(r -> r.startsWith("OK "))).hasSize(5);
        assertThat(replies.stream().filter(r -> r.contains("circuit breaker open"))).hasSize(3);
        assertThat(applied()).contains("192.0.2.5 timeout").doesNotContain("192.0.2.6", "192.0.2.7", "192.0.2.8");
        assertThat(log.text()).contains("[ERROR] CircuitBreaker - CIRCUIT BREAKER OPEN: more than 5 new blocks");
        // refreshing a block already in place and unblocking still work
        assertThat(t.sendOne(t.sign(FirewallCommand.block("192.0.2.1", 120)))).endsWith("block refreshed for 120 s");
        assertThat(t.sendOne(t.sign(FirewallCommand.unblock("192.0.2.2")))).endsWith("unblocked");
        assertThat(t.sendOne(t.sign(FirewallCommand.block("192.0.2.9", 60)))).contains("circuit breaker open");
        assertThat(log.text().split("CIRCUIT BREAKER OPEN", -1)).hasSize(2); // said once, not per refusal
    }
}
