package dev.spamtrap.smtp.tarpit;

import org.apache.commons.configuration2.BaseHierarchicalConfiguration;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TarpitSettingsTest {
    @Test
    void defaults() {
        TarpitSettings s = TarpitSettings.from(new BaseHierarchicalConfiguration());
        assertThat(s.delay()).isEqualTo(Duration.ofSeconds(10));
        assertThat(s.stutter()).isFalse();
        assertThat(s.stutterBytes()).isEqualTo(1);
        assertThat(s.stutterInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.maxDuration()).isEqualTo(Duration.ofMinutes(10));
        assertThat(s.maxConnections()).isEqualTo(10_000);
        assertThat(s.maxConnectionsPerClient()).isEqualTo(100);
    }

    @Test
    void readsTheTarpitElement() {
        BaseHierarchicalConfiguration c = new BaseHierarchicalConfiguration();
        c.addProperty("tarpit.delay", "2500ms");
        c.addProperty("tarpit.stutter", "true");
        c.addProperty("tarpit.stutterBytes", "4");
        c.addProperty("tarpit.stutterInterval", "200ms");
        c.addProperty("tarpit.maxDuration", "3m");
        c.addProperty("tarpit.maxConnections", "7");
        c.addProperty("tarpit.maxConnectionsPerClient", "2");
        TarpitSettings s = TarpitSettings.from(c);
        assertThat(s.delay()).isEqualTo(Duration.ofMillis(2500));
        assertThat(s.stutter()).isTrue();
        assertThat(s.stutterBytes()).isEqualTo(4);
        assertThat(s.stutterInterval()).isEqualTo(Duration.ofMillis(200));
        assertThat(s.maxDuration()).isEqualTo(Duration.ofMinutes(3));
        assertThat(s.maxConnections()).isEqualTo(7);
        assertThat(s.maxConnectionsPerClient()).isEqualTo(2);
    }

    @Test
    void badValuesNameTheirKey() {
        BaseHierarchicalConfiguration c = new BaseHierarchicalConfiguration();
        c.addProperty("tarpit.delay", "soon");
        assertThatThrownBy(() -> TarpitSettings.from(c)).hasMessageStartingWith("tarpit.delay:");
        BaseHierarchicalConfiguration d = new BaseHierarchicalConfiguration();
        d.addProperty("tarpit.stutterBytes", "0");
        assertThatThrownBy(() -> TarpitSettings.from(d)).hasMessageStartingWith("tarpit.stutterBytes:");
        BaseHierarchicalConfiguration e = new BaseHierarchicalConfiguration();
        e.addProperty("tarpit.stutter", "maybe");
        assertThatThrownBy(() -> TarpitSettings.from(e)).hasMessageStartingWith("tarpit.stutter:");
        BaseHierarchicalConfiguration f = new BaseHierarchicalConfiguration();
        f.addProperty("tarpit.maxDuration", "0s");
        assertThatThrownBy(() -> TarpitSettings.from(f)).hasMessageStartingWith("tarpit.maxDuration:");
    }
}
