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
        String message = t.sign(FirewallCommand.block("192.0.2.7", 3600));
        String nonce = TestAgent.nonceOf(message);
        assertThat(t.sendOne(message)).isEqualTo("OK " + nonce + " 1 of 1 applied: blocked for 3600 s");
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
    void aMessageOfManyCommandsIsAppliedInOneTransactionAndAnsweredOnce() throws Exception {
        FirewallCommand[] commands = new FirewallCommand[5];
        for (int i = 0; i < commands.length; i++) {
            commands[i] = FirewallCommand.block("192.0.2." + (i + 1), 600);
        }
        String message = t.sign(commands);
        int calls = t.runner.calls.size();
        assertThat(t.sendOne(message)).isEqualTo("OK " + TestAgent.nonceOf(message) + " 5 of 5 applied");
        assertThat(t.runner.calls).hasSize(calls + 1);
        assertThat(t.runner.calls.get(calls).stdin).contains("add element inet spamtrap block4 { 192.0.2.1 timeout 600s, 192.0.2.2 timeout 600s, "
            + "192.0.2.3 timeout 600s, 192.0.2.4 timeout 600s, 192.0.2.5 timeout 600s }");
        assertThat(t.agent.applier().size()).isEqualTo(5);
    }

    @Test
    void aMessageWithBadCommandsAnswersEachRefusalAndAppliesTheOthers() throws Exception {
        String message = t.sign(FirewallCommand.block("192.0.2.7", 60), FirewallCommand.block("198.51.100.9", 60),
            FirewallCommand.block("300.1.2.3", 60), FirewallCommand.unblock("192.0.2.99"), FirewallCommand.block("192.0.2.8", 60));
        String nonce = TestAgent.nonceOf(message);
        String reply = t.sendOne(message);
        assertThat(reply.split("\n")).satisfiesExactly(
            r -> assertThat(r).startsWith("ERR " + nonce + "/2 198.51.100.9 is allowlisted"),
            r -> assertThat(r).startsWith("ERR " + nonce + "/3 malformed address or prefix: '300.1.2.3'"),
            r -> assertThat(r).isEqualTo("OK " + nonce + " 3 of 5 applied"));
        assertThat(applied()).contains("192.0.2.7 timeout 60s", "192.0.2.8 timeout 60s", "192.0.2.99").doesNotContain("198.51.100.9", "300.1.2.3");
        assertThat(log.text()).contains("REFUSED BLOCK 198.51.100.9 from tcp:127.0.0.1:", "(protected): 198.51.100.9 is allowlisted",
            "REFUSED BLOCK 300.1.2.3 from", "(malformed)");
    }

    @Test
    void aTamperedMessageIsRefusedWhole() throws Exception {
        String good = t.sign(FirewallCommand.block("192.0.2.7", 3600), FirewallCommand.block("192.0.2.8", 3600), FirewallCommand.block("192.0.2.9", 3600));
        String nonce = TestAgent.nonceOf(good);
        // one command altered (another address), or one dropped with the count changed to match: the HMAC no longer fits
        assertThat(t.sendOne(good.replace("192.0.2.8", "192.0.2.6"))).isEqualTo("ERR " + nonce + " bad signature (wrong key or altered message)");
        String dropped = good.replace("BLOCK 192.0.2.9 3600\n", "").replace(" " + nonce + " 3\n", " " + nonce + " 2\n");
        assertThat(t.sendOne(dropped)).startsWith("ERR " + nonce + " bad signature");
        String forged = good.substring(0, good.length() - 65) + "0".repeat(64) + "\n";
        assertThat(t.sendOne(forged)).startsWith("ERR " + nonce + " bad signature");
        assertThat(applied()).isEmpty();
        assertThat(log.text()).containsPattern("REFUSED message from tcp:127\\.0\\.0\\.1:\\d+ \\(bad signature\\): bad signature");
        // the nonce of a forged message is not burnt: the real one still applies, whole
        assertThat(t.sendOne(good)).isEqualTo("OK " + nonce + " 3 of 3 applied");
    }

    @Test
    void aMessageWithOneMalformedCommandIsRefusedWholeAndTheConnectionStaysInStep() throws Exception {
        String good = t.sign(FirewallCommand.block("192.0.2.7", 60), FirewallCommand.block("192.0.2.8", 60));
        String bad = good.replace("BLOCK 192.0.2.8", "BLOCKX 192.0.2.8");
        String after = t.sign(FirewallCommand.block("192.0.2.9", 60));
        List<String> replies = t.send(bad, after);
        assertThat(replies).hasSize(2);
        assertThat(replies.get(0)).isEqualTo("ERR " + TestAgent.nonceOf(bad) + " command 2: unknown command 'BLOCKX' (BLOCK or UNBLOCK)");
        assertThat(replies.get(1)).startsWith("OK " + TestAgent.nonceOf(after) + " 1 of 1 applied");
        assertThat(applied()).contains("192.0.2.9").doesNotContain("192.0.2.7", "192.0.2.8");
    }

    @Test
    void aBadHeaderIsRefusedAndTheConnectionClosed() throws Exception {
        // a line of the previous format: one command per line
        String v2 = "v2 " + t.endpoint() + " " + System.currentTimeMillis() + " 00000000000000ad BLOCK 192.0.2.7 60 " + "0".repeat(64);
        List<String> replies = t.send(v2, t.sign(FirewallCommand.block("192.0.2.8", 60)));
        assertThat(replies).containsExactly("ERR 00000000000000ad version v2 (one command per line) is no longer accepted (expected v3: update James's spamtrap jar)");
        assertThat(t.send("BLOCK 192.0.2.7 60")).containsExactly("ERR - expected a header of 5 fields separated by single spaces, got 3 "
            + "(format: v3 <agent> <unix-millis> <nonce> <count>)");
        assertThat(applied()).isEmpty();
        assertThat(log.text()).contains("where its next message starts is unknown");
    }

    @Test
    void aMessageSignedForAnotherAgentIsRefused() throws Exception {
        // the same key, another agent (say the next host's): captured there, replayed here
        String elsewhere = new String(t.codec.encode(List.of(FirewallCommand.block("192.0.2.7", 3600), FirewallCommand.block("192.0.2.8", 3600)),
            "tcp:127.0.0.1:7999", System.currentTimeMillis(), "00000000000000ac"), java.nio.charset.StandardCharsets.US_ASCII);
        assertThat(t.sendOne(elsewhere)).startsWith("ERR 00000000000000ac message signed for agent 'tcp:127.0.0.1:7999', this is " + t.endpoint());
        assertThat(applied()).isEmpty();
        assertThat(log.text()).contains("(wrong agent): message signed for agent");
        // and the nonce was not burnt: the real message with it still applies
        String here = t.signAt(System.currentTimeMillis(), "00000000000000ac", FirewallCommand.block("192.0.2.7", 3600));
        assertThat(t.sendOne(here)).startsWith("OK 00000000000000ac");
    }

    @Test
    void staleMessageIsRefused() throws Exception {
        String stale = t.signAt(System.currentTimeMillis() - 31_000, "00000000000000aa", FirewallCommand.block("192.0.2.7", 3600));
        assertThat(t.sendOne(stale)).startsWith("ERR 00000000000000aa stale message: signed");
        String future = t.signAt(System.currentTimeMillis() + 60_000, "00000000000000ab", FirewallCommand.block("192.0.2.7", 3600));
        assertThat(t.sendOne(future)).contains("in the future");
        assertThat(applied()).isEmpty();
        assertThat(log.text()).contains("(stale): stale message: signed");
    }

    @Test
    void aReplayedMessageIsRefusedWhole() throws Exception {
        String message = t.sign(FirewallCommand.block("192.0.2.7", 3600), FirewallCommand.unblock("192.0.2.8"));
        assertThat(t.sendOne(message)).startsWith("OK ");
        int calls = t.runner.calls.size();
        assertThat(t.sendOne(message)).isEqualTo("ERR " + TestAgent.nonceOf(message) + " replayed message: nonce " + TestAgent.nonceOf(message)
            + " was already used");
        assertThat(t.runner.calls).hasSize(calls);
        assertThat(log.text()).contains("(replayed): replayed message: nonce " + TestAgent.nonceOf(message));
    }

    @Test
    void malformedAddressesAreRefusedByName() throws Exception {
        assertThat(t.sendOne(t.sign(FirewallCommand.block("300.1.2.3", 60))))
            .contains("malformed address or prefix: '300.1.2.3' is not an IPv4 or IPv6 address or prefix");
        assertThat(t.sendOne(t.sign(FirewallCommand.block("192.0.2.0/33", 60)))).contains("'192.0.2.0/33' has prefix length 33");
        String named = t.sign(FirewallCommand.block("192.0.2.7", 60)).replace("192.0.2.7", "mx.example.org");
        assertThat(t.sendOne(named)).contains("command 1: malformed address or prefix 'mx.example.org'");
        assertThat(applied()).isEmpty();
        assertThat(log.text()).contains("'300.1.2.3' is not an IPv4 or IPv6 address", "'mx.example.org'");
    }

    @Test
    void oversizedMessageIsRefusedAndConnectionClosed() throws Exception {
        List<String> replies = t.send("v3 " + "9".repeat(700), t.sign(FirewallCommand.block("192.0.2.7", 60)));
        assertThat(replies).containsExactly("ERR - message line longer than 512 bytes");
        assertThat(applied()).isEmpty();
        assertThat(log.text()).contains("(oversized): a line longer than 512 bytes; nothing applied");
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
        assertThat(log.text()).contains("REFUSED BLOCK 198.51.100.9 from", "(protected): 198.51.100.9 is allowlisted", "127.0.0.5 is loopback");
    }

    @Test
    void circuitBreakerStopsNewBlocksLoudly() throws Exception {
        String[] messages = new String[8];
        for (int i = 0; i < messages.length; i++) {
            messages[i] = t.sign(FirewallCommand.block("192.0.2." + (i + 1), 60));
        }
        List<String> replies = t.send(messages);
        assertThat(replies.stream().filter(r -> r.startsWith("OK ") && r.contains("1 of 1 applied"))).hasSize(5);
        assertThat(replies.stream().filter(r -> r.contains("circuit breaker open") && r.endsWith("0 of 1 applied"))).hasSize(3);
        assertThat(applied()).contains("192.0.2.5 timeout").doesNotContain("192.0.2.6", "192.0.2.7", "192.0.2.8");
        assertThat(log.text()).contains("[ERROR] CircuitBreaker - CIRCUIT BREAKER OPEN: more than 5 new blocks");
        // refreshing a block already in place and unblocking still work
        assertThat(t.sendOne(t.sign(FirewallCommand.block("192.0.2.1", 120)))).endsWith("block refreshed for 120 s");
        assertThat(t.sendOne(t.sign(FirewallCommand.unblock("192.0.2.2")))).endsWith("unblocked");
        assertThat(t.sendOne(t.sign(FirewallCommand.block("192.0.2.9", 60)))).contains("circuit breaker open");
        assertThat(log.text().split("CIRCUIT BREAKER OPEN", -1)).hasSize(2); // said once, not per refusal
    }
}
