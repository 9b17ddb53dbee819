package dev.spamtrap.smtp;

import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.net.CidrRange;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReceivedChainTest {
    static final Allowlist RELAYS = new Allowlist(List.of(CidrRange.parse("192.0.2.25"), CidrRange.parse("2001:db8::/64")));

    static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void skipsOurOwnHeaderAndTrustedRelaysAndNamesTheFirstOtherSender() throws Exception {
        String[] chain = {
            "from mx2.example.com ([192.0.2.25]) by mail.example.com (JAMES SMTP Server) with ESMTP ID 1; Mon, 23 Nov 2026",
            "from fwd.example.com (fwd [IPv6:2001:db8::7])\r\n\tby mx2.example.com (Postfix) with ESMTP id X",
            "from bad.example (bad.example [203.0.113.9]) by fwd.example.com with SMTP id Y",
            "from inner (inner [10.0.0.1]) by bad.example"};
        ReceivedChain.Origin o = ReceivedChain.originOf(chain, ip("192.0.2.25"), RELAYS);
        assertThat(o.client()).contains(ip("203.0.113.9"));
        assertThat(o.helo).isEqualTo("bad.example");
    }

    @Test
    void aNameAloneIsNeverBelievedAndAnEmptyOrRelayOnlyChainIsUnreadable() throws Exception {
        assertThat(ReceivedChain.originOf(new String[] {"from mx2 ([192.0.2.25]) by us", "from liar.example by mx2"}, ip("192.0.2.25"), RELAYS)
            .client()).isEmpty();
        assertThat(ReceivedChain.originOf(new String[0], ip("192.0.2.25"), RELAYS).problem).isEqualTo("no Received: header");
        assertThat(ReceivedChain.originOf(null, ip("192.0.2.25"), RELAYS).client()).isEmpty();
        assertThat(ReceivedChain.originOf(new String[] {"from mx2 ([192.0.2.25]) by us"}, ip("192.0.2.25"), RELAYS).problem)
            .isEqualTo("every Received: header names a trusted relay");
        assertThat(ReceivedChain.originOf(new String[] {"by us; no from clause"}, ip("192.0.2.25"), RELAYS).client()).isEmpty();
        assertThat(ReceivedChain.originOf(new String[] {"from x ([999.1.1.1]) by us"}, ip("192.0.2.25"), RELAYS).client()).isEmpty();
    }

    @Test
    void onlyTheFromClauseCounts() throws Exception {
        ReceivedChain.Origin o = ReceivedChain.originOf(new String[] {"from mx2 ([192.0.2.25]) by us",
            "from client.example (client [198.51.100.3]) by mx2 ([192.0.2.25]) for <x@[203.0.113.1]>"}, ip("192.0.2.25"), RELAYS);
        assertThat(o.client()).contains(ip("198.51.100.3"));
    }
}
