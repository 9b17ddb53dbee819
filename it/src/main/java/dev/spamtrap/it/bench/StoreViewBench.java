package dev.spamtrap.it.bench;

import dev.spamtrap.core.net.OffenderKeys;
import dev.spamtrap.core.offender.Offender;
import dev.spamtrap.core.offender.OffenderView;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The connect-time view at {@code n} offenders: heap per offender (measured by heap use before and after,
 * beside the same offenders held the way the previous view held them: a map of key string to full record),
 * the lookup's p50/p99 (each lookup timed alone; the ~20-30 ns of System.nanoTime is included), and bytes
 * allocated per lookup.
 */
final class StoreViewBench {
    static final class Result {
        double bytesPerOffender;
        double tableBytesPerOffender;
        double oldBytesPerOffender;
        double p50Nanos;
        double p99Nanos;
        double allocPerMiss;
        double allocPerHit;
    }

    static Result run(int n) throws Exception {
        Result r = new Result();
        Clock clock = Clock.systemUTC();
        Instant until = clock.instant().plusSeconds(86_400);
        SplittableRandom random = new SplittableRandom(42);
        int[] listed = new int[n];
        for (int i = 0; i < n; i++) {
            listed[i] = 0x0A000000 | random.nextInt(1 << 24);
        }
        long before = usedHeap();
        OffenderView view = new OffenderView(clock, OffenderKeys.DEFAULT);
        for (int i = 0; i < n; i++) {
            view.put(ip(listed[i]), until);
        }
        long after = usedHeap();
        long size = view.size();
        r.bytesPerOffender = (after - before) / (double) size;
        r.tableBytesPerOffender = view.bytes() / (double) size;

        // Lookups: half listed clients, half not (mostly misses in real life; both are measured).
        InetAddress[] probes = new InetAddress[20_000];
        for (int i = 0; i < probes.length; i++) {
            int bits = i % 2 == 0 ? listed[random.nextInt(n)] : 0x0B000000 | random.nextInt(1 << 24);
            probes[i] = InetAddress.getByAddress(new byte[] {(byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits});
        }
        int found = 0;
        for (int w = 0; w < 3_000_000; w++) {
            found += view.isListed(probes[w % probes.length]) ? 1 : 0;
        }
        long[] times = new long[2_000_000];
        for (int i = 0; i < times.length; i++) {
            InetAddress a = probes[i % probes.length];
            long t0 = System.nanoTime();
            boolean hit = view.isListed(a);
            times[i] = System.nanoTime() - t0;
            found += hit ? 1 : 0;
        }
        Arrays.sort(times);
        r.p50Nanos = times[times.length / 2];
        r.p99Nanos = times[(int) (times.length * 0.99)];

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        InetAddress miss = probes[1];
        long a0 = threads.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 1_000_000; i++) {
            found += view.active(miss).isPresent() ? 1 : 0;
        }
        long a1 = threads.getThreadAllocatedBytes(tid);
        r.allocPerMiss = (a1 - a0) / 1_000_000.0;
        InetAddress hitProbe = probes[0];
        a0 = threads.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 100_000; i++) {
            found += view.active(hitProbe).isPresent() ? 1 : 0;
        }
        a1 = threads.getThreadAllocatedBytes(tid);
        r.allocPerHit = (a1 - a0) / 100_000.0;
        if (found == 42) {
            System.out.println();
        }

        // The previous design: key string -> full Offender (trap, HELO, MAIL FROM, node strings) in a ConcurrentHashMap.
        view = null;
        long beforeOld = usedHeap();
        Map<String, Offender> old = new ConcurrentHashMap<>();
        Instant now = clock.instant();
        for (int i = 0; i < n; i++) {
            String key = ip(listed[i]);
            old.put(key, new Offender(key, now, now, 1, "trap" + (i % 100) + "@example.com", "bot" + i + ".spam.test",
                "sender" + i + "@spam.test", "james-1", until));
        }
        long afterOld = usedHeap();
        r.oldBytesPerOffender = (afterOld - beforeOld) / (double) old.size();
        return r;
    }

    private static String ip(int bits) {
        return (bits >>> 24 & 255) + "." + (bits >>> 16 & 255) + "." + (bits >>> 8 & 255) + "." + (bits & 255);
    }

    private static long usedHeap() throws InterruptedException {
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(100);
        }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }
}
