package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.net.Prefix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The saved view: what is written is read back exactly; a file that is not whole and intact, or of another firewall, is refused whole. */
class ViewFileTest {
    @TempDir
    Path dir;

    private static BlockTable view() {
        BlockTable t = new BlockTable();
        for (int i = 0; i < 5000; i++) {
            t.put(Prefix.parse("10.20." + (i >> 8) + "." + (i & 255)), 1_900_000_000_000L + i, i);
        }
        t.put(Prefix.parse("10.1.0.0/16"), 1_900_000_000_001L, 0);
        t.put(Prefix.parse("2001:db8:1:2::/64"), 1_900_000_000_002L, 0);
        t.put(Prefix.parse("2001:db8:9::/48"), 1_900_000_000_003L, 0);
        t.put(Prefix.parse("2001:db8::7"), 1_900_000_000_004L, 0);
        return t;
    }

    @Test
    void whatIsWrittenIsReadBackExactlyAndNoTemporaryFileStays() throws IOException {
        ViewFile file = new ViewFile(dir.resolve("view.bin"), "nftables table inet spamtrap");
        BlockTable written = view();
        file.write(written, 1_800_000_000_000L);
        file.write(written, 1_800_000_000_123L); // replaces the first
        Map<Prefix, Long> read = new HashMap<>();
        ViewFile.Saved saved = file.read(into(read)).orElseThrow();
        assertThat(saved.savedAtMillis).isEqualTo(1_800_000_000_123L);
        assertThat(saved.entries).isEqualTo(written.size());
        assertThat(read).hasSize(written.size());
        written.forEach(e -> assertThat(read.get(e.prefix())).as(e.prefix().toString()).isEqualTo(e.expiresAt));
        assertThat(read).containsKeys(Prefix.parse("10.1.0.0/16"), Prefix.parse("2001:db8:1:2::/64"), Prefix.parse("2001:db8::7"));
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("view.bin");
        }
    }

    private static ViewFile.Sink into(Map<Prefix, Long> out) {
        return new ViewFile.Sink() {
            @Override
            public void host4(int address, long expiresAt) {
                out.put(Prefix.ipv4Host(address), expiresAt);
            }

            @Override
            public void prefix(Prefix prefix, long expiresAt) {
                out.put(prefix, expiresAt);
            }
        };
    }

    @Test
    void aMissingFileIsNoView() throws IOException {
        assertThat(new ViewFile(dir.resolve("none.bin"), "s").read(into(new HashMap<>()))).isEmpty();
    }

    @Test
    void aFlippedByteATruncatedFileAndAnotherFirewallsFileAreRefused() throws IOException {
        Path path = dir.resolve("view.bin");
        ViewFile file = new ViewFile(path, "nftables table inet spamtrap");
        file.write(view(), 1_800_000_000_000L);
        byte[] good = Files.readAllBytes(path);

        byte[] flipped = good.clone();
        flipped[good.length / 2] ^= 0x01;
        Files.write(path, flipped);
        assertThatThrownBy(() -> file.read(into(new HashMap<>()))).isInstanceOf(IOException.class).hasMessageContaining("checksum");

        Files.write(path, java.util.Arrays.copyOf(good, good.length - 9));
        assertThatThrownBy(() -> file.read(into(new HashMap<>()))).isInstanceOf(IOException.class).hasMessageContaining("truncated");

        Files.write(path, "garbage, not a view".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> file.read(into(new HashMap<>()))).isInstanceOf(IOException.class).hasMessageContaining("magic");

        Files.write(path, good);
        assertThat(file.read(into(new HashMap<>()))).isPresent();
        assertThatThrownBy(() -> new ViewFile(path, "nftables table inet other").read(into(new HashMap<>()))).isInstanceOf(IOException.class)
            .hasMessageContaining("saved for 'nftables table inet spamtrap'");
    }
}
