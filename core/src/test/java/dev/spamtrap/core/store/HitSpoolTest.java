package dev.spamtrap.core.store;

import dev.spamtrap.core.offender.TrapHit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HitSpoolTest {
    @TempDir
    Path dir;

    private static TrapHit hit(String ip, int n) {
        return new TrapHit("node-" + n, ip, ip, Instant.parse("2026-11-22T10:00:00Z").plusSeconds(n), "t@example.com", "h", "m@x.y", "n");
    }

    @Test
    void roundTripsAwkwardFieldsAndSkipsUnreadableLines() throws Exception {
        TrapHit odd = new TrapHit("id\t1", "2001:db8::/64", "2001:db8::1", Instant.parse("2026-11-22T10:00:00.123Z"), "trap@example.com",
            "helo\twith tab", "", "node 1");
        try (HitSpool spool = new HitSpool(dir, 1 << 20)) {
            spool.append(List.of(odd));
            Files.writeString(spool.file(), "garbage line\n", StandardOpenOption.APPEND);
            spool.append(List.of(hit("192.0.2.1", 1)));
        }
        try (HitSpool spool = new HitSpool(dir, 1 << 20)) {
            List<TrapHit> read = spool.readAll();
            assertThat(read).hasSize(2);
            assertThat(read.get(0)).isEqualTo(odd);
        }
    }

    @Test
    void fieldsAreWrittenAsURLEncoderWritesThemAndReadBackWhatever() {
        // the spool's format stays what URLEncoder writes (a spool written by an older build is read by this one and back)
        for (String s : List.of("", "192.0.2.1", "2001:db8::/64", "trap@example.com", "a b+c%d", "Ünïcode\u00e9", "tab\tnew\nline", "-._*",
            "x@spam.test", "HELO [192.0.2.1]")) {
            assertThat(HitSpool.enc(s)).isEqualTo(java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8));
            assertThat(HitSpool.dec(HitSpool.enc(s))).isEqualTo(s);
            assertThat(HitSpool.dec(java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8))).isEqualTo(s);
        }
        assertThat(HitSpool.dec("a+b%40c")).isEqualTo("a b@c");
        TrapHit hit = new TrapHit("bench-1", "198.51.100.7", "198.51.100.7", Instant.parse("2026-11-22T10:00:00Z"), "trap@example.com", "bot",
            "x@spam.test", "node-a").withGeneration(3);
        assertThat(HitSpool.decode(HitSpool.encode(hit))).isEqualTo(hit);
        assertThat(HitSpool.decode(HitSpool.encode(hit)).generation()).isEqualTo(3);
    }

    @Test
    void batchesAreConfirmedInOrderAndTheFileEmptiesWhenAllIsStored() throws Exception {
        try (HitSpool spool = new HitSpool(dir, 1 << 20)) {
            spool.append(List.of(hit("192.0.2.1", 1), hit("192.0.2.2", 2), hit("192.0.2.3", 3)));
            HitSpool.Batch first = spool.read(2);
            assertThat(first.hits).extracting(TrapHit::key).containsExactly("192.0.2.1", "192.0.2.2");
            spool.confirm(first.end, 2);
            assertThat(spool.depth()).isEqualTo(1);
        }
        try (HitSpool spool = new HitSpool(dir, 1 << 20)) {
            // the checkpoint survived the restart: only the unconfirmed hit is replayed
            HitSpool.Batch rest = spool.read(10);
            assertThat(rest.hits).extracting(TrapHit::key).containsExactly("192.0.2.3");
            spool.confirm(rest.end, 1);
            assertThat(Files.size(spool.file())).isZero();
            assertThat(spool.depth()).isZero();
        }
    }

    @Test
    void aTornLastLineIsCutAndAFullSpoolRefusesHits() throws Exception {
        try (HitSpool spool = new HitSpool(dir, 300)) {
            spool.append(List.of(hit("192.0.2.1", 1)));
            Files.writeString(spool.file(), "192.0.2.9\t2026-11", StandardOpenOption.APPEND);
        }
        try (HitSpool spool = new HitSpool(dir, 300)) {
            assertThat(spool.readAll()).hasSize(1);
            int accepted = spool.append(List.of(hit("192.0.2.2", 2), hit("192.0.2.3", 3), hit("192.0.2.4", 4)));
            assertThat(accepted).isLessThan(3);
            assertThat(spool.refused()).isEqualTo(3 - accepted);
        }
    }

    @Test
    void aSecondOwnerOfTheSameFolderIsRefused() {
        try (HitSpool spool = new HitSpool(dir, 1 << 20)) {
            assertThatThrownBy(() -> new HitSpool(dir, 1 << 20)).isInstanceOf(HitSpool.SpoolInUseException.class)
                .hasMessageContaining("in use by another James process");
        }
    }
}
