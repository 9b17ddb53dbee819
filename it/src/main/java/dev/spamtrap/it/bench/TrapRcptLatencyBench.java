package dev.spamtrap.it.bench;

import dev.spamtrap.it.stack.CassandraProcess;
import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.Ports;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Can a client tell a trap by how fast RCPT is answered? The reply time of a client's first RCPT to a trap beside the
 * reply time of a first RCPT to a real mailbox, each from a fresh client address (so every trap sample is a client's
 * first hit, with its recording), alternated, on James with the extension and the sample configuration.
 */
public final class TrapRcptLatencyBench {
    private TrapRcptLatencyBench() {
    }

    public static void main(String[] args) throws Exception {
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int warmUp = Math.min(50, samples);
        Path dir = ProjectLayout.locate().root().resolve("it/target/bench-rcpt-latency");
        Dirs.deleteRecursively(dir);
        try (CassandraProcess cassandra = new CassandraProcess(dir.resolve("cassandra"), Ports.free(), Ports.free()).start(Duration.ofSeconds(180));
             JamesProcess james = new JamesProcess(dir.resolve("james")).randomPorts().cassandra(cassandra.contactPoint())
                 .edit("dnsservice.xml", s -> ThroughputBenchmark.LOCAL_DNS).prepare()) {
            james.start(Duration.ofSeconds(180));
            new WebAdmin(james.webAdminPort()).addUser("alice@example.com", "alice");
            int[] next = {0};
            for (int i = 0; i < warmUp; i++) {
                rcptMicros(james.smtpPort(), freshAddress(next), "trap@example.com");
                rcptMicros(james.smtpPort(), freshAddress(next), "alice@example.com");
            }
            List<Double> trap = new ArrayList<>();
            List<Double> mailbox = new ArrayList<>();
            for (int i = 0; i < samples; i++) {
                if (i % 2 == 0) {
                    trap.add(rcptMicros(james.smtpPort(), freshAddress(next), "trap@example.com"));
                    mailbox.add(rcptMicros(james.smtpPort(), freshAddress(next), "alice@example.com"));
                } else {
                    mailbox.add(rcptMicros(james.smtpPort(), freshAddress(next), "alice@example.com"));
                    trap.add(rcptMicros(james.smtpPort(), freshAddress(next), "trap@example.com"));
                }
            }
            double trapMedian = percentile(trap, 50);
            double mailboxMedian = percentile(mailbox, 50);
            System.out.printf("First RCPT reply time over loopback, %d samples each (after %d of each as warm-up), each from a fresh client address%n%n",
                samples, warmUp);
            System.out.println("| RCPT to          | median (ms) | p90 (ms) | p99 (ms) |");
            System.out.println("|------------------|-------------|----------|----------|");
            System.out.printf("| a real mailbox   | %11.3f | %8.3f | %8.3f |%n", mailboxMedian / 1000, percentile(mailbox, 90) / 1000, percentile(mailbox, 99) / 1000);
            System.out.printf("| a trap (1st hit) | %11.3f | %8.3f | %8.3f |%n", trapMedian / 1000, percentile(trap, 90) / 1000, percentile(trap, 99) / 1000);
            System.out.printf("| difference       | %11.3f |          |          |%n", (trapMedian - mailboxMedian) / 1000);
            System.out.println();
            System.out.println(Math.abs(trapMedian - mailboxMedian) <= 100 ? "goal (medians within 0.1 ms): met" : "goal (medians within 0.1 ms): NOT met");
        }
    }

    /** 127.1.x.y: never relay-authorized, never allowlisted, never used before in this run. */
    private static String freshAddress(int[] next) {
        int n = next[0]++;
        return "127.1." + (n / 250) + "." + (n % 250 + 1);
    }

    private static double rcptMicros(int port, String from, String rcpt) {
        try (SmtpClient c = SmtpClient.connect(from, port)) {
            c.reply();
            c.command("EHLO bench.example");
            c.command("MAIL FROM:<sender@outside.example>");
            long start = System.nanoTime();
            String reply = c.command("RCPT TO:<" + rcpt + ">");
            long micros = (System.nanoTime() - start) / 1000;
            if (reply == null || !reply.startsWith("250")) {
                throw new IllegalStateException("RCPT TO:<" + rcpt + "> from " + from + " answered " + reply);
            }
            c.command("QUIT");
            return micros;
        }
    }

    private static double percentile(List<Double> values, int p) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
