package dev.spamtrap.core.store;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HistoryFilterTest {
    private static final long NOW = 1_795_000_000L;

    private static String ip(int v) {
        return ((v >>> 24) & 255) + "." + ((v >>> 16) & 255) + "." + ((v >>> 8) & 255) + "." + (v & 255);
    }

    @Test
    void neverForgetsAKeyBeforeItsHorizonAndRarelyClaimsOneNeverPut() {
        HistoryFilter f = new HistoryFilter();
        int n = 300_000; // grows well past the first block
        for (int i = 0; i < n; i++) {
            f.put(ip(0x0A000000 + i), NOW + 3600 + (i % 40) * 86_400L); // horizons spread over six weeks
        }
        for (int i = 0; i < n; i++) {
            assertThat(f.mightContain(ip(0x0A000000 + i), NOW)).as("key %d", i).isTrue();
        }
        int falsePositives = 0;
        int probes = 200_000;
        for (int i = 0; i < probes; i++) {
            if (f.mightContain(ip(0x0B000000 + i), NOW)) {
                falsePositives++;
            }
        }
        assertThat(falsePositives / (double) probes).isLessThan(0.01);
        assertThat(f.bytes() / (double) n).isLessThan(8.0);
    }

    @Test
    void aWeekIsDroppedOnlyWhenItIsOverAndAKeyPutAgainLaterSurvivesIt() {
        HistoryFilter f = new HistoryFilter();
        f.put("192.0.2.1", NOW + 60);
        f.put("192.0.2.2", NOW + 60);
        f.put("192.0.2.2", NOW + 3 * HistoryFilter.WEEK_SECONDS); // seen again: a later horizon
        f.purge(NOW);
        assertThat(f.mightContain("192.0.2.1", NOW)).isTrue();
        long later = NOW + 2 * HistoryFilter.WEEK_SECONDS;
        f.purge(later);
        assertThat(f.mightContain("192.0.2.1", later)).isFalse();
        assertThat(f.mightContain("192.0.2.2", later)).isTrue();
    }

    @Test
    void neighbouringKeysHashApart() {
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (int i = 0; i < 65_536; i++) {
            seen.add(HistoryFilter.hash(ip(0x0A000000 + i)) & 0xFFFFF);
        }
        // 65,536 keys into 2^20 buckets: a good hash fills about 63,500 distinct ones
        assertThat(seen.size()).isGreaterThan(60_000);
    }
}
