package dev.spamtrap.core.firewall;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgentEndpointTest {
    @Test
    void parsesUnixAndLoopbackTcp() {
        assertThat(AgentEndpoint.parse("unix:/run/agent.sock").isUnix()).isTrue();
        assertThat(AgentEndpoint.parse("/run/agent.sock").toString()).isEqualTo("unix:/run/agent.sock");
        assertThat(AgentEndpoint.parse("tcp:127.0.0.1:7625").toString()).isEqualTo("tcp:127.0.0.1:7625");
        assertThat(AgentEndpoint.parse("[::1]:7625").isUnix()).isFalse();
    }

    @Test
    void refusesNamesAndNonLoopback() {
        assertThatThrownBy(() -> AgentEndpoint.parse("tcp:localhost:7625")).hasMessageContaining("not an IP address");
        assertThatThrownBy(() -> AgentEndpoint.parse("tcp:192.0.2.1:7625")).hasMessageContaining("not a loopback address");
        assertThatThrownBy(() -> AgentEndpoint.parse("tcp:127.0.0.1:x")).hasMessageContaining("bad port");
    }
}
