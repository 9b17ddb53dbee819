package dev.spamtrap.it.bench;

import dev.spamtrap.core.blocklist.Blocklist;
import dev.spamtrap.core.blocklist.BlocklistSettings;
import dev.spamtrap.core.blocklist.BlocklistSource;
import dev.spamtrap.core.blocklist.Blocklists;

import java.io.BufferedWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loaded list at scale: writes a list of N entries (single IPv4 addresses, as nixspam's, with 2% prefixes and 1%
 * ranges), loads it through the runtime's own path ({@link Blocklists#start}: its loader thread, the streamed parse,
 * the swap), then reloads it while another thread keeps looking addresses up. Prints: load and reload time, the heap
 * the list holds (after GC, and its arrays' own size), the highest heap use sampled during the reload above the heap
 * before it, the loader thread's allocations per load, lookups per second and the longest single lookup during the
 * reload. Run it with a small {@code -Xmx} to show a reload needs no second heap.
 */
public final class BlocklistBench {
    private BlocklistBench() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        Path dir = Files.createTempDirectory("blocklist-bench");
        Path file = dir.resolve("list.txt");
        Random random = new Random(1_000_003);
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII)) {
            w.write("# bench list, " + n + " entries\n");
            for (int i = 0; i < n; i++) {
                int a = random.nextInt();
                String ip = ((a >>> 24) & 0xFF) + "." + ((a >>> 16) & 0xFF) + "." + ((a >>> 8) & 0xFF) + "." + (a & 0xFF);
                int kind = i % 100;
                if (kind < 2) {
                    w.write(ip + "/24\n");
                } else if (kind < 3) {
                    w.write(ip + " - " + ((a >>> 24) & 0xFF) + "." + ((a >>> 16) & 0xFF) + "." + ((a >>> 8) & 0xFF) + ".255\n");
                } else {
                    w.write(ip + "\n");
                }
            }
        }
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long heapMax = Runtime.getRuntime().maxMemory();
        long before = usedAfterGc(memory);

        BlocklistSettings settings = new BlocklistSettings("bench", BlocklistSource.of(file.toString(), dir, Duration.ofSeconds(60)),
            "Your address %A is in the bench list", Duration.ofDays(30), BlocklistSettings.Action.REFUSE);
        long t0 = System.nanoTime();
        Blocklists lists = Blocklists.start(List.of(settings), Clock.systemUTC());
        Blocklist list = lists.all().get(0);
        while (list.loaded().at().isEmpty()) {
            if (list.lastError().isPresent()) {
                throw new IllegalStateException(list.lastError().get());
            }
            Thread.sleep(5);
        }
        long firstLoadMs = (System.nanoTime() - t0) / 1_000_000;
        Thread loader = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("spamtrap-lists")).findFirst().orElseThrow();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long held = usedAfterGc(memory) - before;

        // lookups per second on one thread, random addresses
        int[] probes = new int[1 << 20];
        for (int i = 0; i < probes.length; i++) {
            probes[i] = random.nextInt();
        }
        InetAddress[] probeAddresses = new InetAddress[4096];
        for (int i = 0; i < probeAddresses.length; i++) {
            int a = probes[i];
            probeAddresses[i] = InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
        }
        long hits = 0;
        for (int round = 0; round < 3; round++) { // warm-up, then measured
            hits = 0;
            for (int p : probes) {
                hits += list.loaded().ranges().containsV4(p) ? 1 : 0;
            }
        }
        long l0 = System.nanoTime();
        int lookups = 0;
        for (int round = 0; round < 5; round++) {
            for (InetAddress a : probeAddresses) {
                hits += list.contains(a) ? 1 : 0;
                lookups++;
            }
            for (int p : probes) {
                hits += list.loaded().ranges().containsV4(p) ? 1 : 0;
                lookups++;
            }
        }
        double nsPerLookup = (System.nanoTime() - l0) / (double) lookups;

        // reload: a changed file, loaded by the loader thread while this one samples the heap and another looks up
        Files.writeString(file, "\n", java.nio.file.StandardOpenOption.APPEND);
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(Instant.now().plusSeconds(5)));
        long baseline = usedAfterGc(memory);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong longestLookupNs = new AtomicLong();
        AtomicLong duringReload = new AtomicLong();
        AtomicLong overOneMs = new AtomicLong();
        Thread looker = new Thread(() -> {
            int i = 0;
            while (running.get()) {
                long s = System.nanoTime();
                boolean on = list.contains(probeAddresses[i++ & (probeAddresses.length - 1)]);
                long took = System.nanoTime() - s;
                if (took > 1_000_000) {
                    overOneMs.incrementAndGet();
                }
                if (took > longestLookupNs.get()) {
                    longestLookupNs.set(took);
                }
                duringReload.incrementAndGet();
                if (on && i < 0) {
                    System.out.print("");
                }
            }
        }, "bench-lookups");
        looker.start();
        Instant loadedBefore = list.loaded().at().orElseThrow();
        long allocatedBefore = threads.getThreadAllocatedBytes(loader.getId());
        long peak = memory.getHeapMemoryUsage().getUsed();
        long[] gcBefore = gcTotals();
        long r0 = System.nanoTime();
        lists.reloadSoon(list);
        while (list.loaded().at().orElseThrow().equals(loadedBefore)) {
            long used = memory.getHeapMemoryUsage().getUsed();
            if (used > peak) {
                peak = used;
            }
            if (list.lastError().isPresent()) {
                throw new IllegalStateException(list.lastError().get());
            }
            Thread.sleep(0, 200_000);
        }
        long reloadMs = (System.nanoTime() - r0) / 1_000_000;
        long[] gcAfter = gcTotals();
        running.set(false);
        looker.join();
        long allocated = threads.getThreadAllocatedBytes(loader.getId()) - allocatedBefore;
        lists.close();

        Blocklist.Loaded loaded = list.loaded();
        System.out.println("| figure | value |");
        System.out.println("|---|---|");
        row("entries in the file", String.format("%,d (%,d bytes of text)", n, Files.size(file)));
        row("entries loaded / ranges after merging", String.format("%,d / %,d", loaded.entries(), loaded.ranges().ranges()));
        row("JVM max heap (-Xmx)", mib(heapMax));
        row("first load (fetch, parse, build, swap)", firstLoadMs + " ms");
        row("reload of the changed file", reloadMs + " ms (as logged by the loader: " + loaded.millis() + " ms)");
        row("heap held by the list (after GC)", mib(held));
        row("the list's arrays", mib(loaded.ranges().bytes()));
        row("highest heap use sampled during the reload, above the heap before it", mib(Math.max(0, peak - baseline))
            + " (garbage included: the lines read, before a GC collects them)");
        row("heap before the reload (after GC) / highest sampled", mib(baseline) + " / " + mib(peak));
        row("loader thread's allocations per load", mib(allocated));
        row("lookups, one thread", String.format("%.0f ns each (%,.0f per second)", nsPerLookup, 1e9 / nsPerLookup));
        row("lookups on another thread during the reload", String.format("%,d; %,d took over 1 ms, the longest %,d us"
            + " (wall time: garbage collection and the machine's scheduling included)", duringReload.get(), overOneMs.get(),
            longestLookupNs.get() / 1000));
        row("garbage collections during the reload (stop every thread, lookups included)", String.format("%d, %d ms in all",
            gcAfter[0] - gcBefore[0], gcAfter[1] - gcBefore[1]));
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
        if (hits < 0) {
            System.out.println(hits);
        }
    }

    /** Collections and milliseconds spent collecting, over all collectors. */
    private static long[] gcTotals() {
        long count = 0;
        long millis = 0;
        for (java.lang.management.GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, gc.getCollectionCount());
            millis += Math.max(0, gc.getCollectionTime());
        }
        return new long[] {count, millis};
    }

    private static long usedAfterGc(MemoryMXBean memory) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    private static void row(String name, String value) {
        System.out.println("| " + name + " | " + value + " |");
    }
}
