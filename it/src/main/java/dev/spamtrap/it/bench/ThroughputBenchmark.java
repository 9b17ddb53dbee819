package dev.spamtrap.it.bench;

import dev.spamtrap.it.stack.CassandraProcess;
import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.Ports;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Messages per second through plain James and through James with the spamtrap extension (no trap hits),
 * measured in the same run against the same Cassandra, alternating the two so drift hits both alike.
 * The load generator is this JVM; each James is its own JVM.
 *
 * <p>Usage: {@code bench/throughput [messages-per-round] [rounds] [clients]}.
 */
public final class ThroughputBenchmark {
    /**
     * James looks up the client's name at EHLO; on a machine whose resolver does not answer, each lookup
     * waits seconds and the benchmark would measure DNS time-outs. Both servers ask 127.0.0.1 instead, where
     * nothing listens, so lookups fail at once.
     */
    static final String LOCAL_DNS = "<?xml version=\"1.0\"?>\n<dnsservice>\n  <servers><server>127.0.0.1</server></servers>\n"
        + "  <autodiscover>false</autodiscover>\n  <authoritative>false</authoritative>\n  <maxcachesize>50000</maxcachesize>\n</dnsservice>\n";

    public static void main(String[] args) throws Exception {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 1500;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 6;
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        Path dir = ProjectLayout.locate().root().resolve("it/target/bench-throughput");
        Dirs.deleteRecursively(dir);
        System.out.printf("Throughput: %d messages per round, %d rounds per variant, %d concurrent clients (127.0.0.100+), "
            + "one SMTP connection per message, local delivery ends in the Null mailet on both servers%n", messages, rounds, clients);
        try (CassandraProcess cassandra = new CassandraProcess(dir.resolve("cassandra"), Ports.free(), Ports.free()).start(Duration.ofSeconds(180));
             JamesProcess plain = new JamesProcess(dir.resolve("james-plain")).randomPorts().withoutExtension()
                 .edit("mailetcontainer.xml", ThroughputBenchmark::discardInsteadOfMailbox)
                 .edit("dnsservice.xml", s -> LOCAL_DNS).prepare();
             JamesProcess spamtrap = new JamesProcess(dir.resolve("james-spamtrap")).randomPorts().cassandra(cassandra.contactPoint())
                 .spamtrapProperty("cassandra.keyspace", "bench_throughput")
                 .edit("mailetcontainer.xml", ThroughputBenchmark::discardInsteadOfMailbox)
                 .edit("dnsservice.xml", s -> LOCAL_DNS).prepare();
             JamesProcess sensors = new JamesProcess(dir.resolve("james-sensors")).randomPorts().cassandra(cassandra.contactPoint())
                 .spamtrapProperty("cassandra.keyspace", "bench_throughput_sensors")
                 .edit("smtpserver.xml", ThroughputBenchmark::withSensors)
                 .edit("mailetcontainer.xml", ThroughputBenchmark::discardInsteadOfMailbox)
                 .edit("dnsservice.xml", s -> LOCAL_DNS).prepare()) {
            plain.start(Duration.ofSeconds(180));
            spamtrap.start(Duration.ofSeconds(180));
            sensors.start(Duration.ofSeconds(180));
            List<Double> firstContact = new ArrayList<>();
            for (JamesProcess j : List.of(plain, spamtrap, sensors)) {
                new WebAdmin(j.webAdminPort()).addUser("alice@example.com", "alice");
                if (j == sensors) {
                    // each client's first contact waits for the final greeting once (the pass is remembered)
                    for (int c = 0; c < clients; c++) {
                        long t = System.nanoTime();
                        SmtpClient.deliver("127.0.0." + (100 + c), j.smtpPort(), "sender@outside.test", List.of("alice@example.com"), "first");
                        firstContact.add((System.nanoTime() - t) / 1e9);
                    }
                }
                run(j.smtpPort(), messages, clients); // warm-up: JIT, pools
                awaitDrained(j);
            }
            List<Double> plainRates = new ArrayList<>();
            List<Double> trapRates = new ArrayList<>();
            List<Double> sensorRates = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                // Rotate which goes first, and let each server finish its spool before the next runs.
                List<JamesProcess> all = List.of(plain, spamtrap, sensors);
                for (int k = 0; k < all.size(); k++) {
                    JamesProcess j = all.get((r + k) % all.size());
                    double rate = run(j.smtpPort(), messages, clients);
                    (j == plain ? plainRates : j == spamtrap ? trapRates : sensorRates).add(rate);
                    awaitDrained(j);
                }
            }
            double p = median(plainRates);
            double s = median(trapRates);
            double z = median(sensorRates);
            // Each round runs every variant back to back; the servers still speed up from round to round (JIT), so a
            // ratio is taken within each round and the median of those is the figure (medians of separate lists mix
            // early and late rounds).
            double sp = pairedRatio(trapRates, plainRates);
            double zs = pairedRatio(sensorRates, trapRates);
            System.out.println();
            System.out.println("| variant                     | rounds (msg/s)                 | median msg/s |");
            System.out.println("|-----------------------------|--------------------------------|--------------|");
            System.out.printf("| plain James 3.8.1           | %-30s | %12.1f |%n", fmt(plainRates), p);
            System.out.printf("| James + spamtrap (no hits)  | %-30s | %12.1f |%n", fmt(trapRates), s);
            System.out.printf("| ratio spamtrap / plain      | %-30s | %12.3f |%n", "same round: " + fmtRatios(trapRates, plainRates), sp);
            System.out.printf("| + sensors, passed clients   | %-30s | %12.1f |%n", fmt(sensorRates), z);
            System.out.printf("| ratio sensors / spamtrap    | %-30s | %12.3f |%n", "same round: " + fmtRatios(sensorRates, trapRates), zs);
            System.out.println();
            System.out.printf("ratios of the medians (for reference): spamtrap / plain %.3f, sensors / spamtrap %.3f%n", s / p, z / s);
            System.out.println(sp >= 0.97 ? "goal (ratio >= 0.97): met" : "goal (ratio >= 0.97): NOT met");
            System.out.println(zs >= 0.97 ? "sensors goal (passed clients, ratio to spamtrap >= 0.97): met"
                : "sensors goal (passed clients, ratio to spamtrap >= 0.97): NOT met");
            System.out.printf("first contact with pregreet (wait %s): one whole delivery took %s s%n", SENSOR_WAIT,
                firstContact.stream().map(v -> String.format("%.2f", v)).collect(java.util.stream.Collectors.joining(", ")));
        }
    }

    /** The median, over rounds, of one variant's rate over another's in the same round. */
    static double pairedRatio(List<Double> variant, List<Double> base) {
        List<Double> ratios = new ArrayList<>();
        for (int r = 0; r < Math.min(variant.size(), base.size()); r++) {
            ratios.add(variant.get(r) / base.get(r));
        }
        return median(ratios);
    }

    static String fmtRatios(List<Double> variant, List<Double> base) {
        List<String> out = new ArrayList<>();
        for (int r = 0; r < Math.min(variant.size(), base.size()); r++) {
            out.add(String.format("%.2f", variant.get(r) / base.get(r)));
        }
        return String.join(", ", out);
    }

    static final String SENSOR_WAIT = "6s";

    /** The protocol sensors on, pregreet at postscreen's 6 s wait (ProtocolSensorHandler before TrapRcptHook). */
    static String withSensors(String smtpserver) {
        String anchor = "<handler class=\"dev.spamtrap.smtp.TrapRcptHook\">";
        if (!smtpserver.contains(anchor)) {
            throw new IllegalStateException("smtpserver.xml has no TrapRcptHook to put the sensors before");
        }
        return smtpserver.replace(anchor, "<handler class=\"dev.spamtrap.smtp.ProtocolSensorHandler\"><pregreet><wait>" + SENSOR_WAIT
            + "</wait></pregreet></handler>\n            " + anchor);
    }

    /**
     * Both servers end local delivery in James's Null mailet instead of the memory mailbox: appending
     * thousands of messages to one in-memory INBOX is slow enough (tens of ms each) to hide everything
     * else, while what the extension adds lives in the SMTP path and the root processor, both still measured.
     */
    static String discardInsteadOfMailbox(String mailetcontainer) {
        String changed = mailetcontainer.replace("<mailet match=\"All\" class=\"LocalDelivery\"/>", "<mailet match=\"All\" class=\"Null\"/>");
        if (changed.equals(mailetcontainer)) {
            throw new IllegalStateException("mailetcontainer.xml has no LocalDelivery mailet to replace");
        }
        return changed;
    }

    /** Sends {@code messages} whole SMTP deliveries (one connection each) with {@code clients} threads; returns msg/s. */
    static double run(int port, int messages, int clients) throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long start = System.nanoTime();
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            String local = "127.0.0." + (100 + c);
            futures.add(pool.submit(() -> {
                while (next.getAndIncrement() < messages) {
                    List<String> replies = SmtpClient.deliver(local, port, "sender@outside.test", List.of("alice@example.com"), "bench");
                    if (!replies.get(replies.size() - 2).startsWith("250")) {
                        failed.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " deliveries failed");
        }
        return messages / seconds;
    }

    /** Waits until James's spool queue is empty, so its mailet work does not steal the next round's CPU. */
    static void awaitDrained(JamesProcess james) throws InterruptedException {
        WebAdmin webAdmin = new WebAdmin(james.webAdminPort());
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            String body = webAdmin.get("/mailQueues/spool");
            if (body.contains("\"size\":0")) {
                Thread.sleep(500);
                return;
            }
            Thread.sleep(200);
        }
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Comparator.naturalOrder());
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    static String fmt(List<Double> xs) {
        List<String> out = new ArrayList<>();
        for (double x : xs) {
            out.add(String.format("%.0f", x));
        }
        return String.join(", ", out);
    }
}
