package dev.spamtrap.core.firewall;

import dev.spamtrap.core.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FirewallKeyTest {
    @TempDir
    Path dir;

    @Test
    void refusesMissingEmptyAndShortKeys() throws Exception {
        Path missing = dir.resolve("none.key");
        assertThatThrownBy(() -> FirewallKey.load(missing)).isInstanceOf(ConfigException.class)
            .hasMessageContaining("none.key").hasMessageContaining("does not exist");
        Path empty = Files.write(dir.resolve("empty.key"), new byte[0]);
        assertThatThrownBy(() -> FirewallKey.load(empty)).hasMessageContaining("empty.key").hasMessageContaining("is empty");
        Path blank = Files.writeString(dir.resolve("blank.key"), "  \n");
        assertThatThrownBy(() -> FirewallKey.load(blank)).hasMessageContaining("white space");
        Path shortB64 = Files.writeString(dir.resolve("short.key"), Base64.getEncoder().encodeToString(new byte[16]) + "\n");
        assertThatThrownBy(() -> FirewallKey.load(shortB64)).hasMessageContaining("short.key").hasMessageContaining("too short: 16 bytes (base64)");
        Path shortRaw = Files.write(dir.resolve("raw.key"), new byte[] {1, 2, 3, (byte) 0xff});
        assertThatThrownBy(() -> FirewallKey.load(shortRaw)).hasMessageContaining("too short: 4 bytes (raw)");
        // a 32-character password is base64 for only 24 bytes: refused, not taken as 32 raw bytes
        Path password = Files.writeString(dir.resolve("pw.key"), "abcdefghabcdefghabcdefghabcdefgh");
        assertThatThrownBy(() -> FirewallKey.load(password)).hasMessageContaining("too short: 24 bytes");
    }

    @Test
    void acceptsBase64AndRawKeys() throws Exception {
        byte[] bytes = new byte[32];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 7 + 200);
        }
        Path b64 = Files.writeString(dir.resolve("b64.key"), Base64.getEncoder().encodeToString(bytes) + "\n");
        Path raw = Files.write(dir.resolve("raw.key"), bytes);
        assertThat(FirewallKey.load(b64)).isEqualTo(FirewallKey.load(raw));
        assertThat(FirewallKey.load(b64).length()).isEqualTo(32);
        assertThat(FirewallKey.load(b64).toString()).doesNotContain(Base64.getEncoder().encodeToString(bytes));
        assertThat(new String(Files.readAllBytes(b64), StandardCharsets.US_ASCII)).endsWith("\n");
    }
}
