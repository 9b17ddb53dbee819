package dev.spamtrap.core.store;

import dev.spamtrap.core.offender.TrapHit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HitSpoolTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsAwkwardFieldsAndSkipsUnreadableLines() throws Exception {
        HitSpool spool = new HitSpool(dir);
        TrapHit odd = new TrapHit("2001:db8::1", Instant.parse("2026-11-22T10:00:00.123Z"), "trap@example.com",
            "helo\twith tab", "", "node 1");
        spool.append(odd);
        Files.writeString(spool.file(), "garbage line\n", java.nio.file.StandardOpenOption.APPEND);
        spool.append(new TrapHit("192.0.2.1", Instant.parse("2026-11-22T10:00:01Z"), "a@b.c", "h", "m@x.y", "n"));
        List<TrapHit> read = new HitSpool(dir).readAll();
        assertThat(read).hasSize(2);
        assertThat(read.get(0)).isEqualTo(odd);
        spool.replaceWith(read.subList(1, 2));
        assertThat(spool.readAll()).extracting(TrapHit::ip).containsExactly("192.0.2.1");
        spool.replaceWith(List.of());
        assertThat(Files.exists(spool.file())).isFalse();
    }
}
