package dev.spamtrap.agent;

import dev.spamtrap.agent.backend.IpsetBackend;
import dev.spamtrap.agent.backend.NftablesBackend;
import dev.spamtrap.agent.backend.Op;
import dev.spamtrap.agent.backend.PfBackend;
import dev.spamtrap.agent.net.Prefix;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What each backend would run, checked with a recording runner. */
class BackendsTest {
    final Prefix a = Prefix.parse("192.0.2.7");
    final Prefix b = Prefix.parse("2001:db8::/64");

    @Test
    void nftablesBatchesIntoOneTransactionAndRebuildsAtomically() throws Exception {
        FakeRunner r = new FakeRunner();
        NftablesBackend nft = new NftablesBackend(r, List.of("ip", "netns", "exec", "x", "nft"), "st", List.of(25, 587), true, Duration.ofSeconds(5));
        nft.start();
        assertThat(r.calls.get(0).argv).containsExactly("ip", "netns", "exec", "x", "nft", "-f", "-");
        assertThat(r.calls.get(0).stdin).contains("tcp dport { 25, 587 } ct state new ip saddr @block4 counter reject with tcp reset");
        nft.apply(List.of(Op.add(a, 60), Op.add(b, 30), Op.refresh(a, 90), Op.remove(b)));
        assertThat(r.calls).hasSize(2);
        assertThat(r.calls.get(1).stdin).isEqualTo(
            "add element inet st block4 { 192.0.2.7 timeout 60s }\n"
            + "add element inet st block6 { 2001:db8:0:0:0:0:0:0 timeout 30s }\n"
            + "add element inet st block4 { 192.0.2.7 }\ndelete element inet st block4 { 192.0.2.7 }\n"
            + "add element inet st block4 { 192.0.2.7 timeout 90s }\n"
            + "add element inet st block6 { 2001:db8:0:0:0:0:0:0 }\ndelete element inet st block6 { 2001:db8:0:0:0:0:0:0 }\n");
        // a run of removals (a reconcile's) is one statement per verb and set, not one per element
        nft.apply(List.of(Op.remove(a), Op.remove(Prefix.parse("192.0.2.8")), Op.remove(a), Op.add(Prefix.parse("192.0.2.9"), 5)));
        assertThat(r.calls.get(2).stdin).isEqualTo(
            "add element inet st block4 { 192.0.2.7, 192.0.2.8 }\ndelete element inet st block4 { 192.0.2.7, 192.0.2.8 }\n"
            + "add element inet st block4 { 192.0.2.9 timeout 5s }\n");
        r.calls.remove(2);
        Map<Prefix, Long> all = new LinkedHashMap<>();
        all.put(a, 10L);
        all.put(b, 20L);
        nft.rebuild(all);
        assertThat(r.calls).hasSize(3);
        assertThat(r.calls.get(2).stdin).contains("add table inet st", "flush set inet st block4\nflush set inet st block6\nflush set inet st wide4\nflush set inet st wide6\n",
            "add element inet st block4 { 192.0.2.7 timeout 10s }", "add element inet st block6 { 2001:db8:0:0:0:0:0:0 timeout 20s }");
    }

    @Test
    void ipsetUsesRestoreAndAddsTheRuleOnlyWhenMissing() throws Exception {
        FakeRunner r = new FakeRunner().failWhen(c -> c.argv.contains("-C") && c.argv.get(0).equals("ip6tables"));
        IpsetBackend ipset = new IpsetBackend(r, List.of("ipset"), List.of("iptables"), List.of("ip6tables"), "s4", "s6", List.of(25), false,
            65536, Duration.ofSeconds(5));
        ipset.start();
        assertThat(r.calls.get(0).argv).containsExactly("ipset", "restore", "-exist");
        assertThat(r.calls.get(0).stdin).contains("create s4 hash:net family inet timeout 0 maxelem 65536", "create s6 hash:net family inet6");
        assertThat(String.join(" ", r.calls.get(1).argv)).isEqualTo("iptables -C INPUT -p tcp -m multiport --dports 25 -m conntrack --ctstate NEW -m set --match-set s4 src -j DROP");
        assertThat(String.join(" ", r.calls.get(3).argv)).isEqualTo("ip6tables -I INPUT 1 -p tcp -m multiport --dports 25 -m conntrack --ctstate NEW -m set --match-set s6 src -j DROP");
        assertThat(r.calls).hasSize(4); // iptables rule existed: not inserted twice
        ipset.apply(List.of(Op.add(a, 60), Op.remove(b)));
        assertThat(r.calls.get(4).stdin).isEqualTo("add s4 192.0.2.7 timeout 60\ndel s6 2001:db8:0:0:0:0:0:0/64\n");
        ipset.rebuild(Map.of(a, 5L));
        assertThat(r.calls.get(5).stdin).contains("create s4-new hash:net", "flush s4-new", "add s4-new 192.0.2.7 timeout 5",
            "swap s4-new s4", "destroy s4-new");
    }

    @Test
    void pfAddsDeletesAndReplacesWithArgumentVectors() throws Exception {
        FakeRunner r = new FakeRunner();
        PfBackend pf = new PfBackend(r, List.of("pfctl"), "spamtrap", Duration.ofSeconds(5));
        assertThat(pf.expiresInKernel()).isFalse();
        pf.apply(List.of(Op.add(a, 60), Op.refresh(Prefix.parse("192.0.2.8"), 60), Op.remove(b)));
        assertThat(r.calls.get(0).argv).containsExactly("pfctl", "-q", "-t", "spamtrap", "-T", "add", "192.0.2.7", "192.0.2.8");
        assertThat(r.calls.get(1).argv).containsExactly("pfctl", "-q", "-t", "spamtrap", "-T", "delete", "2001:db8:0:0:0:0:0:0/64");
        pf.rebuild(Map.of(a, 5L));
        assertThat(r.calls.get(2).argv.subList(0, 6)).containsExactly("pfctl", "-q", "-t", "spamtrap", "-T", "replace");
        assertThat(r.calls.get(2).argv.get(6)).isEqualTo("-f");
    }
}
