package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.net.Prefix;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The view's table against a plain map over random puts, removals and lookups (growth and deletion in the probe runs included). */
class BlockTableTest {
    private static final long NOW = 1_800_000_000_000L;

    @Test
    void agreesWithAPlainMapOverRandomChanges() {
        Random random = new Random(11);
        BlockTable table = new BlockTable();
        Map<Prefix, long[]> model = new HashMap<>();
        for (int step = 0; step < 300_000; step++) {
            // a small key space, so that removals hit long probe runs; a few networks and IPv6 /64s beside the hosts
            int kind = random.nextInt(20);
            Prefix p = kind == 0 ? Prefix.parse("10." + random.nextInt(50) + ".0.0/16")
                : kind == 1 ? Prefix.parse("2001:db8:" + Integer.toHexString(random.nextInt(50)) + "::/64")
                : Prefix.ipv4Host(0x0a000000 | random.nextInt(40_000) + 1);
            int op = random.nextInt(10);
            if (op < 5) {
                long expires = NOW + 1000L * (1 + random.nextInt(100_000));
                long changed = random.nextBoolean() ? 0 : NOW - random.nextInt(1_000_000);
                table.put(p, expires, changed);
                model.put(p, new long[] {expires, BlockTable.secondsUp(changed) * 1000});
            } else if (op < 8) {
                assertThat(table.remove(p)).as("remove " + p).isEqualTo(model.remove(p) != null);
            } else {
                BlockTable.Entry e = table.get(p, NOW);
                long[] m = model.get(p);
                if (m == null) {
                    assertThat(e).as("get " + p).isNull();
                } else {
                    assertThat(e).as("get " + p).isNotNull();
                    assertThat(new long[] {e.expiresAt, e.changedAt}).as("get " + p).containsExactly(m);
                }
            }
            assertThat(table.size()).isEqualTo(model.size());
        }
        assertThat(table.prefixes()).isEqualTo(model.keySet());
        table.forEach(c -> assertThat(c.expiresAt).isEqualTo(model.get(c.prefix())[0]));
    }

    /**
     * Loading a saved view fills a table in another table's slot order; with one hash for both, the keys arrive
     * sorted by their home slot and pile into one probe run (a million took 107 s to load).
     */
    @Test
    void aTableFilledInAnotherTablesOrderKeepsShortProbeRuns() {
        BlockTable first = new BlockTable();
        for (int i = 1; i <= 200_000; i++) {
            first.put(Prefix.ipv4Host(0x0a000000 + i), NOW + 1000, 0);
        }
        BlockTable reloaded = new BlockTable();
        int[] midwayRun = new int[1];
        first.forEach(c -> {
            reloaded.putHost4(c.prefix().ipv4Bits(), c.expiresAt, 0);
            if (reloaded.size() == 100_000) {
                midwayRun[0] = reloaded.longestRun(); // half loaded: keys sorted by a shared hash would all sit in one run here
            }
        });
        assertThat(reloaded.size()).isEqualTo(200_000);
        assertThat(midwayRun[0]).as("longest probe run half way through the reload").isLessThan(300);
        assertThat(first.longestRun()).isLessThan(300);
        assertThat(reloaded.longestRun()).as("longest probe run after a reload").isLessThan(300);
    }

    @Test
    void seenMarksAndExpiryAndCoveringPrefixes() {
        BlockTable table = new BlockTable();
        table.put(Prefix.parse("192.0.2.1"), NOW + 1000, 0);
        table.put(Prefix.parse("192.0.2.2"), NOW - 1, 0);
        table.put(Prefix.parse("198.51.100.0/24"), NOW + 1000, 0);
        assertThat(table.markSeen(Prefix.parse("192.0.2.1"), 7, NOW).seen).as("what it held before").isZero();
        assertThat(table.get(Prefix.parse("192.0.2.1"), NOW).seen).isEqualTo(7);
        assertThat(table.markSeen(Prefix.parse("192.0.2.2"), 7, NOW)).as("expired").isNull();
        table.put(Prefix.parse("192.0.2.2"), NOW - 1, 0);
        assertThat(table.get(Prefix.parse("192.0.2.2"), NOW)).as("expired: absent").isNull();
        assertThat(table.covering(Prefix.parse("198.51.100.9"), NOW)).isEqualTo(Prefix.parse("198.51.100.0/24"));
        assertThat(table.contained(Prefix.parse("192.0.2.0/24"), NOW)).containsExactly(Prefix.parse("192.0.2.1"));
        table.removeExpired(NOW + 2000);
        assertThat(table.size()).isZero();
    }
}
