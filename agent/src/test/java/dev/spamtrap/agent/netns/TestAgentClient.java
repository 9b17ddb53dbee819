package dev.spamtrap.agent.netns;

import dev.spamtrap.agent.TestAgent;
import dev.spamtrap.core.firewall.FirewallCommand;
import dev.spamtrap.core.firewall.FirewallKey;
import dev.spamtrap.core.firewall.MessageCodec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Sends one signed command (a message of one) to an agent over TCP and returns its reply's first line. */
final class TestAgentClient {
    private final InetSocketAddress at;
    private final MessageCodec codec = new MessageCodec(FirewallKey.of(TestAgent.KEY_BYTES));

    TestAgentClient(InetSocketAddress at) {
        this.at = at;
    }

    String send(FirewallCommand c) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(at, 2000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write(codec.encode(c, dev.spamtrap.core.firewall.AgentEndpoint.tcp(at).toString(), System.currentTimeMillis(), MessageCodec.newNonce()));
            s.getOutputStream().flush();
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
        }
    }
}
