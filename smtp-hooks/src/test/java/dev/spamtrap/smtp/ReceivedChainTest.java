package dev.spamtrap.smtp;

import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.net.CidrRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReceivedChainTest {
    static final Allowlist RELAYS = new Allowlist(List.of(CidrRange.parse("192.0.2.25"), CidrRange.parse("2001:db8::/64")));
    /** The header our James writes about the trusted relay 192.0.2.25. */
    static final String OURS = "from mx2.example.com (EHLO mx2.example.com) ([192.0.2.25])\r\n\tby mail.example.com (JAMES SMTP Server ) with ESMTP ID 1a2b\r\n"
        + "\tfor <trap@example.com>;\r\n\tMon, 23 Nov 2026 10:00:00 +0000 (UTC)";

    static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    static ReceivedChain.Origin relayed(String relayHeader) throws Exception {
        return ReceivedChain.originOf(new String[] {OURS, relayHeader}, ip("192.0.2.25"), RELAYS);
    }

    /** Each MTA's own format, as the trusted relay writes it: the client and its HELO, whatever the HELO says. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        // Postfix: from HELO (NAME [ADDR]); it rewrites spaces and brackets in a HELO as '?'
        "Postfix|from bot.example (unknown [203.0.113.9]) by mx2.example.com (Postfix) with ESMTP id 4XyZ1 for <trap@example.com>; Mon, 23 Nov 2026 10:00:00 +0000 (UTC)|203.0.113.9|bot.example",
        "Postfix, rDNS|from bot.example (dyn-9.isp.example [203.0.113.9]) by mx2.example.com (Postfix) with ESMTPS id 4XyZ1|203.0.113.9|bot.example",
        "Postfix, TLS comment|from bot.example (unknown [203.0.113.9]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) by mx2.example.com (Postfix) with ESMTPS id 4XyZ1|203.0.113.9|bot.example",
        "Postfix, HELO [victim]|from [198.51.100.77] (unknown [203.0.113.9]) by mx2.example.com (Postfix) with ESMTP id 4XyZ1|203.0.113.9|[198.51.100.77]",
        "Postfix, sanitised HELO with ' by '|from x?by?[198.51.100.77] (unknown [203.0.113.9]) by mx2.example.com (Postfix) with ESMTP id 4XyZ1|203.0.113.9|x?by?[198.51.100.77]",
        "Postfix 3.7.11, real, HELO 'x by [127.0.0.98] (unknown [127.0.0.97])'|from x?by?[127.0.0.98]??unknown?[127.0.0.97]? (unknown [127.0.0.71]) by mx2.example.com (Postfix) with ESMTP id 2315120C246 for <trap@example.com>; Sun,  6 Dec 2026 13:52:54 +0000 (UTC)|127.0.0.71|x?by?[127.0.0.98]??unknown?[127.0.0.97]?",
        "Postfix, port logged|from bot.example (unknown [203.0.113.9]:40512) by mx2.example.com (Postfix) with ESMTP id 4XyZ1|203.0.113.9|bot.example",
        "Postfix, IPv6|from bot6.example (unknown [IPv6:2001:db8:77::9]) by mx2.example.com (Postfix) with ESMTP id 4XyZ1|2001:db8:77::9|bot6.example",
        // Exim: from NAME ([ADDR] helo=HELO), from [ADDR] (helo=HELO)
        "Exim, rDNS and HELO literal|from dyn-71.spammer.example ([127.0.0.71] helo=[127.0.0.99]) by mx2.example.com with esmtp (Exim 4.96) (envelope-from <bot@spam.test>) id 1tXyz-000123-AB for trap@example.com; Mon, 23 Nov 2026 10:00:00 +0000|127.0.0.71|[127.0.0.99]",
        "Exim, no rDNS|from [127.0.0.75] (helo=[127.0.0.98]) by mx2.example.com with esmtp (Exim 4.96) (envelope-from <bot@spam.test>) id 1tXyz-000124-AB; Mon, 23 Nov 2026|127.0.0.75|[127.0.0.98]",
        "Exim, HELO same as name|from mail.good.example ([203.0.113.10]) by mx2.example.com with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <a@good.example>) id 1tX|203.0.113.10|mail.good.example",
        "Exim, port and ident|from dyn.example ([203.0.113.11]:50123 helo=bot ident=nobody) by mx2.example.com with esmtp (Exim 4.96) id 1tX|203.0.113.11|bot",
        "Exim, no rDNS, port|from [203.0.113.12] (port=50124 helo=bot.example) by mx2.example.com with esmtp (Exim 4.96) id 1tX|203.0.113.12|bot.example",
        "Exim, no HELO|from [203.0.113.13] by mx2.example.com with smtp (Exim 4.96) id 1tX|203.0.113.13|''",
        "Exim, IPv6|from [2001:db8:77::10] (helo=bot.example) by mx2.example.com with esmtp (Exim 4.96) id 1tX|2001:db8:77::10|bot.example",
        // Sendmail: from HELO (NAME [ADDR]) with ident and "may be forged"
        "Sendmail|from bot.example (dyn.isp.example [203.0.113.20]) by mx2.example.com (8.17.1.9/8.17.1.9/Debian-2) with ESMTP id 3ANA0xyz012345 for <trap@example.com>; Mon, 23 Nov 2026|203.0.113.20|bot.example",
        "Sendmail, forged|from bot.example (dyn.isp.example [203.0.113.21] (may be forged)) by mx2.example.com (8.17.1.9/8.17.1.9) with ESMTP id 3ANA0xyz|203.0.113.21|bot.example",
        "Sendmail, ident|from bot.example (nobody@dyn.isp.example [203.0.113.22]) by mx2.example.com (8.17.1.9/8.17.1.9) with SMTP id 3ANA0xyz|203.0.113.22|bot.example",
        "Sendmail, no rDNS|from bot.example ([203.0.113.23]) by mx2.example.com (8.17.1.9/8.17.1.9) with ESMTP id 3ANA0xyz|203.0.113.23|bot.example",
        // Exchange: from HELO (ADDR) by HOST (ADDR) with Microsoft SMTP Server
        "Exchange|from bot.example (203.0.113.30) by EXCH01.example.com (10.0.0.2) with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.2.1118.40; Mon, 23 Nov 2026|203.0.113.30|bot.example",
        "Exchange, IPv6|from bot.example (2001:db8:77::31) by EXCH01.example.com (2001:db8::25) with Microsoft SMTP Server id 15.2.1118.40 via Frontend Transport; Mon, 23 Nov 2026|2001:db8:77::31|bot.example",
        "Exchange, older|from bot.example ([203.0.113.32]) by EXCH01.example.com with Microsoft SMTPSVC(6.0.3790.4675); Mon, 23 Nov 2026|203.0.113.32|bot.example",
        // James 3.8.1 (as seen from a real one): from HOST (EHLO HELO) ([ADDR])
        "James|from 127.0.3.9 (EHLO bot.example) ([127.0.3.9]) by vm (JAMES SMTP Server ) with ESMTP ID d3943b3d for <trap@example.com>; Sun, 6 Dec 2026 13:47:22 +0000 (UTC)|127.0.3.9|bot.example",
        "James, HELO literal|from dyn.isp.example (HELO [198.51.100.77]) ([203.0.113.41]) by relay.example.com (JAMES SMTP Server ) with SMTP ID 5c|203.0.113.41|[198.51.100.77]",
        "James, older|from bot.example (dyn.isp.example [203.0.113.40]) by relay.example.com (JAMES SMTP Server ) with ESMTP ID 5c6d7e8f for <trap@example.com>; Mon, 23 Nov 2026 10:00:00 +0000 (UTC)|203.0.113.40|bot.example",
    })
    void eachMtasFormatNamesTheClient(String mta, String header, String client, String helo) throws Exception {
        ReceivedChain.Origin o = relayed(header);
        assertThat(o.problem).as(mta).isNull();
        assertThat(o.client()).as(mta).contains(ip(client));
        assertThat(o.helo).as(mta).isEqualTo(helo);
    }

    /**
     * A HELO written verbatim (an MTA that neither rewrites nor refuses spaces) that imitates a header: the header is
     * unreadable, never attributed to the address the HELO names.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "imitates Postfix|from x (unknown [198.51.100.77]) by y (unknown [203.0.113.9]) by mx2.example.com (Postfix) with ESMTP id 1",
        "imitates Exim, no rDNS|from [198.51.100.77] (helo=x) by y (unknown [203.0.113.9]) by mx2.example.com (Postfix) with ESMTP id 1",
        "imitates Exim, rDNS|from x ([198.51.100.77] helo=y) by z ([203.0.113.9] helo=x) by mx2.example.com with esmtp (Exim 4.96) id 1",
        "imitates Exchange|from x (198.51.100.77) by y (203.0.113.9) by EXCH01.example.com (10.0.0.2) with Microsoft SMTP Server id 15",
        "HELO with by and a literal|from x by [198.51.100.77] (unknown [203.0.113.9]) by mx2.example.com (Postfix) with ESMTP id 1",
        "imitates James|from h (EHLO x) ([198.51.100.77]) by y (z) ([203.0.113.9]) by relay.example.com (JAMES SMTP Server ) with ESMTP ID 1",
        "literal name only|from [198.51.100.77] x (unknown [203.0.113.9]) by mx2.example.com (Postfix) with ESMTP id 1",
        "names only|from liar.example by mx2.example.com (Postfix) with ESMTP id 1",
        "bad literal|from x ([999.1.1.1]) by mx2.example.com (Postfix) with ESMTP id 1",
        "no from clause|by mx2.example.com (Postfix) with ESMTP id 1",
    })
    void aHeaderAHeloCouldHaveShapedIsUnreadable(String what, String header) throws Exception {
        ReceivedChain.Origin o = relayed(header);
        assertThat(o.client()).as(what).isEmpty();
        assertThat(o.problem).as(what).isNotBlank();
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
    void anEmptyOrRelayOnlyChainIsUnreadable() throws Exception {
        assertThat(ReceivedChain.originOf(new String[0], ip("192.0.2.25"), RELAYS).problem).isEqualTo("no Received: header");
        assertThat(ReceivedChain.originOf(null, ip("192.0.2.25"), RELAYS).client()).isEmpty();
        assertThat(ReceivedChain.originOf(new String[] {"from mx2 ([192.0.2.25]) by us"}, ip("192.0.2.25"), RELAYS).problem)
            .isEqualTo("every Received: header names a trusted relay");
    }

    @Test
    void addressesInTheEnvelopePartsNeverCount() throws Exception {
        ReceivedChain.Origin o = relayed("from client.example (client [198.51.100.3]) by mx2 (Postfix) with ESMTP id 1 for <x@[203.0.113.1]>; date");
        assertThat(o.client()).contains(ip("198.51.100.3"));
        ReceivedChain.Origin exim = relayed("from [198.51.100.4] (helo=c) by mx2 with esmtp (Exim 4.96) (envelope-from <\"(u [203.0.113.1]\"@x>) id 1");
        assertThat(exim.client()).contains(ip("198.51.100.4"));
    }
}
