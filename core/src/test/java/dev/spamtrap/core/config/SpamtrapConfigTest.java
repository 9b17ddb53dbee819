package dev.spamtrap.core.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SpamtrapConfigTest {
    @TempDir
    Path dir;

    private Path write(String text) throws Exception {
        Files.writeString(dir.resolve("traps.txt"), "trap@example.com\n");
        Path p = dir.resolve("spamtrap.properties");
        Files.writeString(p, text);
        return p;
    }

    @Test
    void defaults() throws Exception {
        SpamtrapConfig c = SpamtrapConfig.load(write("traps.file=traps.txt\n"));
        assertThat(c.policy().lifetime()).isEqualTo(Duration.ofHours(24));
        assertThat(c.policy().maxLifetime()).isEqualTo(Duration.ofDays(3));
        assertThat(c.cassandra().keyspace()).isEqualTo("spamtrap");
        assertThat(c.cassandra().contactPoints()).hasSize(1);
        assertThat(c.trapsFile()).contains(dir.resolve("traps.txt"));
        assertThat(c.spoolDirectory()).isEqualTo(dir.getParent().resolve("var/spamtrap"));
    }

    @Test
    void badValuesNameFileKeyAndReason() throws Exception {
        assertThatThrownBy(() -> SpamtrapConfig.load(write("offender.lifetime=24x\n")))
            .isInstanceOf(ConfigException.class)
            .hasMessageContaining("spamtrap.properties: key 'offender.lifetime': '24x' has unknown unit 'x'");
        assertThatThrownBy(() -> SpamtrapConfig.load(write("offender.lifetime=2d\noffender.maxLifetime=1d\n")))
            .hasMessageContaining("key 'offender.maxLifetime'").hasMessageContaining("shorter than offender.lifetime");
        assertThatThrownBy(() -> SpamtrapConfig.load(write("traps.file=missing.txt\n")))
            .hasMessageContaining("key 'traps.file': file '").hasMessageContaining("missing.txt' does not exist");
        assertThatThrownBy(() -> SpamtrapConfig.load(write("cassandra.contactPoints=host:notaport\n")))
            .hasMessageContaining("key 'cassandra.contactPoints'").hasMessageContaining("bad port");
        assertThatThrownBy(() -> SpamtrapConfig.load(write("cassandra.keyspace=bad-name\n")))
            .hasMessageContaining("key 'cassandra.keyspace'");
        assertThatThrownBy(() -> SpamtrapConfig.load(write("offender.lifetme=1h\n")))
            .hasMessageContaining("key 'offender.lifetme': unknown key");
        assertThatThrownBy(() -> SpamtrapConfig.load(dir.resolve("absent.properties")))
            .hasMessageContaining("absent.properties: cannot read");
    }

    @Test
    void trustedRelaysAreOneNodeListOfAddressesAndRanges() throws Exception {
        assertThat(SpamtrapConfig.load(write("traps.file=traps.txt\n")).trustedRelays().ranges()).isEmpty();
        SpamtrapConfig c = SpamtrapConfig.load(write("trustedRelays=192.0.2.25, 2001:db8::/64,198.51.100.0/24\n"));
        assertThat(c.trustedRelays().ranges()).hasSize(3);
        assertThat(c.trustedRelays().contains(java.net.InetAddress.getByName("192.0.2.25"))).isTrue();
        assertThat(c.trustedRelays().contains(java.net.InetAddress.getByName("2001:db8::9"))).isTrue();
        assertThat(c.trustedRelays().contains(java.net.InetAddress.getByName("192.0.2.26"))).isFalse();
        assertThatThrownBy(() -> SpamtrapConfig.load(write("trustedRelays=192.0.2.25, backup-mx.example\n")))
            .isInstanceOf(ConfigException.class)
            .hasMessageContaining("spamtrap.properties: key 'trustedRelays'").hasMessageContaining("backup-mx.example");
    }

    @Test
    void durations() {
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("90")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(Durations.human(Duration.ofHours(24))).isEqualTo("24 hours");
        assertThat(Durations.human(Duration.ofDays(7))).isEqualTo("7 days");
        assertThat(Durations.human(Duration.ofSeconds(1))).isEqualTo("1 second");
    }
}
