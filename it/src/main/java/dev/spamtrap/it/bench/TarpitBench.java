package dev.spamtrap.it.bench;

import dev.spamtrap.core.config.Durations;
import dev.spamtrap.it.stack.CassandraProcess;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.Ports;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The tarpit benchmark (run it with {@code bench/tarpit}). This JVM is only the load: James and Cassandra run
 * in their own JVMs (started here, or an already running James with {@code --port/--pid/--webadmin}).
 *
 * <p>For each N: N spammer connections from several 127.0.0.x addresses, each an offender, are held open
 * (they play whole spam runs and reconnect when closed); meanwhile a normal client from 127.0.0.200 does
 * whole deliveries (greeting, EHLO, MAIL, RCPT, DATA, message, QUIT), spread over 1.5 tarpit delays. The
 * no-load row (N = 0) is measured in the same run, first. Printed: one table.
 */
public final class TarpitBench {
    private static final String USER = "alice@example.com";

    private List<Integer> steps = List.of(0, 1000, 5000, 10_000);
    private int addresses = 20;
    private Duration delay = Duration.ofSeconds(10);
    private int samples = 300;
    private Path dir;
    private int existingPort;
    private long existingPid;
    private int existingWebAdmin;

    private int port;
    private long pid;
    private WebAdmin webAdmin;

    private static final class Row {
        String label;
        int n;
        long tarpitted;
        double p50;
        double p99;
        double max;
        long threads;
        long rssKiB;
        long heapKiB;
        long greetingsMin;
        long refusedAtOnce;
        long finalRefusals;
        long replies;
    }

    public static void main(String[] args) throws Exception {
        TarpitBench b = new TarpitBench();
        b.parse(args);
        b.run();
    }

    private void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--steps": steps = parseSteps(v); i++; break;
                case "--addresses": addresses = Integer.parseInt(v); i++; break;
                case "--delay": delay = Durations.parse(v); i++; break;
                case "--samples": samples = Integer.parseInt(v); i++; break;
                case "--dir": dir = Path.of(v); i++; break;
                case "--port": existingPort = Integer.parseInt(v); i++; break;
                case "--pid": existingPid = Long.parseLong(v); i++; break;
                case "--webadmin": existingWebAdmin = Integer.parseInt(v); i++; break;
                case "-h": case "--help":
                    System.out.println("usage: bench/tarpit [--steps 0,1000,5000,10000] [--addresses 20] [--delay 10s] [--samples 300]\n"
                        + "                    [--dir run/bench-tarpit] [--port SMTP --pid JAMES_PID --webadmin PORT]");
                    System.exit(0);
                    break;
                default: throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (addresses < 1 || addresses > 150) {
            throw new IllegalArgumentException("--addresses must be 1..150 (127.0.0.10 ... 127.0.0.159)");
        }
    }

    private static List<Integer> parseSteps(String v) {
        List<Integer> s = new ArrayList<>();
        for (String p : v.split(",")) {
            s.add(Integer.parseInt(p.trim()));
        }
        if (!s.contains(0)) {
            s.add(0, 0);
        }
        s.sort(Integer::compareTo);
        return s;
    }

    private void run() throws Exception {
        int maxN = steps.get(steps.size() - 1);
        int perClient = (maxN + addresses - 1) / addresses;
        CassandraProcess cassandra = null;
        JamesProcess james = null;
        try {
            if (existingPort > 0) {
                port = existingPort;
                pid = existingPid;
                webAdmin = existingWebAdmin > 0 ? new WebAdmin(existingWebAdmin) : null;
            } else {
                Path root = dir != null ? dir : ProjectLayout.locate().root().resolve("run/bench-tarpit");
                System.out.println("Starting Cassandra and James under " + root + " ...");
                cassandra = new CassandraProcess(root.resolve("cassandra"), Ports.free(), Ports.free()).start(Duration.ofSeconds(120));
                int nodeMax = maxN + Math.max(100, maxN / 10);
                int clientMax = perClient + Math.max(20, perClient / 5);
                james = new JamesProcess(root.resolve("james")).randomPorts().cassandra(cassandra.contactPoint())
                    .spamtrapProperty("node.name", "tarpit-bench")
                    .edit("webadmin.properties", TarpitConf::withMetricsRoute)
                    .edit("jvm.properties", TarpitConf::withoutReverseDnsInLogContext)
                    .edit("smtpserver.xml", xml -> {
                        String s = TarpitConf.mode(xml, "tarpit");
                        s = TarpitConf.tarpit(s, "delay", delay.toMillis() + "ms");
                        s = TarpitConf.tarpit(s, "maxConnections", Integer.toString(nodeMax));
                        s = TarpitConf.tarpit(s, "maxConnectionsPerClient", Integer.toString(clientMax));
                        return TarpitConf.connectionTimeout(s, (int) Math.max(360, delay.toSeconds() * 3));
                    })
                    .prepare().start(Duration.ofSeconds(180));
                port = james.smtpPort();
                pid = james.pid();
                webAdmin = new WebAdmin(james.webAdminPort());
                webAdmin.addUser(USER, "alice");
                System.out.printf(Locale.ROOT, "James pid %d, SMTP %d; tarpit delay %s, maxConnections %d, maxConnectionsPerClient %d%n",
                    pid, port, delay, nodeMax, clientMax);
            }
            List<InetAddress> sources = new ArrayList<>();
            for (int i = 0; i < addresses; i++) {
                String ip = "127.0.0." + (10 + i);
                makeOffender(ip);
                sources.add(InetAddress.getByName(ip));
            }
            System.out.printf(Locale.ROOT, "%d offender addresses 127.0.0.10 ... 127.0.0.%d; normal client 127.0.0.200%n", addresses, 9 + addresses);

            // JIT warm-up of both sides, not measured
            measure(Math.min(200, samples), 0);

            List<Row> rows = new ArrayList<>();
            try (TarpitLoad load = new TarpitLoad(port, sources, USER)) {
                for (int n : steps) {
                    Row row = new Row();
                    row.n = n;
                    row.label = n == 0 ? "0 before" : Integer.toString(n);
                    load.target(n);
                    if (n > 0) {
                        awaitLoad(load, n);
                    }
                    long greetings0 = load.greetings.get();
                    long replies0 = load.replies.get();
                    long t0 = System.nanoTime();
                    double[] lat = measure(samples, delay.toMillis() * 3 / 2);
                    row.p50 = percentile(lat, 50);
                    row.p99 = percentile(lat, 99);
                    row.max = lat[lat.length - 1];
                    row.tarpitted = activeMetric();
                    row.threads = procStatus("Threads");
                    row.rssKiB = procStatus("VmRSS");
                    row.heapKiB = heapAfterGc();
                    double secs = (System.nanoTime() - t0) / 1e9;
                    row.replies = Math.round((load.replies.get() - replies0) / secs);
                    row.greetingsMin = load.minGreetingMillis.get() == Long.MAX_VALUE ? -1 : load.minGreetingMillis.get();
                    row.refusedAtOnce = load.refusedAtOnce.get();
                    row.finalRefusals = load.finalRefusals.get();
                    rows.add(row);
                    System.out.printf(Locale.ROOT, "  N=%d measured: p50 %.1f ms, p99 %.1f ms, %d tarpitted, %d threads, RSS %d MiB, %d spam replies/s (greetings %d)%n",
                        n, row.p50, row.p99, row.tarpitted, row.threads, row.rssKiB / 1024, row.replies, load.greetings.get() - greetings0);
                }
                // the no-load case again, after the load is gone: the stricter of the two is the reference
                load.target(0);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (activeMetric() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                Row after = new Row();
                after.n = 0;
                after.label = "0 after";
                double[] lat = measure(samples, delay.toMillis() * 3 / 2);
                after.p50 = percentile(lat, 50);
                after.p99 = percentile(lat, 99);
                after.tarpitted = activeMetric();
                after.threads = procStatus("Threads");
                after.rssKiB = procStatus("VmRSS");
                after.heapKiB = heapAfterGc();
                rows.add(after);
                System.out.printf(Locale.ROOT, "  N=0 again after the load: p50 %.1f ms, p99 %.1f ms%n", after.p50, after.p99);
            }
            print(rows);
        } finally {
            if (james != null) {
                james.close();
            }
            if (cassandra != null) {
                cassandra.close();
            }
        }
    }

    /** One spam run that hits a trap; an address that is already an offender (tarpitted or refused) is left as it is. */
    private void makeOffender(String ip) {
        int quick = (int) Math.max(200, Math.min(2000, delay.toMillis() / 2));
        try (SmtpClient c = new SmtpClient(ip, port, quick)) {
            String greeting;
            try {
                greeting = c.reply();
            } catch (RuntimeException e) {
                return; // no greeting within half a delay: tarpitted already
            }
            if (greeting == null || !greeting.startsWith("220")) {
                return; // refused: an offender already
            }
        }
        try (SmtpClient c = SmtpClient.connect(ip, port)) {
            c.reply();
            c.command("EHLO offender.bench");
            c.command("MAIL FROM:<offers@spammer.bench>");
            c.command("RCPT TO:<trap@example.com>");
            c.command("QUIT");
        }
    }

    private void awaitLoad(TarpitLoad load, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(120, n / 50));
        long lastPrint = 0;
        while (System.nanoTime() < deadline) {
            long active = activeMetric();
            int open = load.open();
            if (System.nanoTime() - lastPrint > TimeUnit.SECONDS.toNanos(5)) {
                System.out.printf(Locale.ROOT, "  ramping to %d: %d open here, %d tarpitted by the server%n", n, open, active);
                lastPrint = System.nanoTime();
            }
            if (open >= n * 0.98 && (active < 0 || active >= n * 0.95)) {
                // let one delay pass so that the load is in its steady state (replies flowing)
                Thread.sleep(delay.toMillis());
                return;
            }
            Thread.sleep(200);
        }
        System.out.printf(Locale.ROOT, "  warning: only %d of %d connections open (%d tarpitted) after the ramp time%n", load.open(), n, activeMetric());
    }

    /** Whole deliveries of the normal client, spread over {@code spreadMillis}; sorted durations in ms. */
    private double[] measure(int count, long spreadMillis) throws InterruptedException {
        double[] d = new double[count];
        long pause = count > 0 ? spreadMillis / count : 0;
        for (int i = 0; i < count; i++) {
            long t = System.nanoTime();
            List<String> replies = SmtpClient.deliver("127.0.0.200", port, "friend@partner.bench", List.of(USER), "bench " + i);
            d[i] = (System.nanoTime() - t) / 1e6;
            String afterDot = replies.get(replies.size() - 2);
            if (afterDot == null || !afterDot.startsWith("250")) {
                throw new IllegalStateException("normal client's delivery failed: " + replies);
            }
            long rest = pause - (long) d[i];
            if (rest > 0) {
                Thread.sleep(rest);
            }
        }
        Arrays.sort(d);
        return d;
    }

    private static double percentile(double[] sorted, int p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }

    private long activeMetric() {
        if (webAdmin == null) {
            return -1;
        }
        try {
            Matcher m = Pattern.compile("(?m)^spamtrap_tarpit_active(?:\\{[^}]*})? ([0-9.eE+-]+)$").matcher(webAdmin.get("/metrics"));
            return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private long procStatus(String key) {
        if (pid <= 0) {
            return -1;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith(key + ":")) {
                    return Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** The server's Java heap in use right after a full GC (jcmd), in KiB; -1 if jcmd is unavailable. */
    private long heapAfterGc() {
        if (pid <= 0) {
            return -1;
        }
        try {
            String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
            run(jcmd, Long.toString(pid), "GC.run");
            String info = run(jcmd, Long.toString(pid), "GC.heap_info");
            Matcher m = Pattern.compile("used (\\d+)K").matcher(info);
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(60, TimeUnit.SECONDS);
        return out;
    }

    private void print(List<Row> rows) {
        Row before = rows.get(0);
        Row after = rows.get(rows.size() - 1);
        Row base = after.p99 < before.p99 ? after : before;
        System.out.println();
        System.out.printf(Locale.ROOT, "Tarpit benchmark: delay %s, %d offender addresses, %d normal deliveries per row (whole conversation, client JVM apart from James)%n",
            delay, addresses, samples);
        System.out.println("|        N | tarpitted | p50 ms | p99 ms | no-load p50 | no-load p99 | p99 / no-load | threads | RSS MiB | heap MiB | RSS KiB/conn | heap KiB/conn | spam replies/s |");
        System.out.println("|---------:|----------:|-------:|-------:|------------:|------------:|--------------:|--------:|--------:|---------:|-------------:|--------------:|---------------:|");
        for (Row r : rows) {
            String rssPer = r.n == 0 ? "-" : String.format(Locale.ROOT, "%.1f", (r.rssKiB - before.rssKiB) / (double) r.n);
            String heapPer = r.n == 0 || r.heapKiB < 0 || before.heapKiB < 0 ? "-" : String.format(Locale.ROOT, "%.1f", (r.heapKiB - before.heapKiB) / (double) r.n);
            System.out.printf(Locale.ROOT, "| %8s | %9d | %6.1f | %6.1f | %11.1f | %11.1f | %13.2f | %7d | %7d | %8s | %12s | %13s | %14d |%n",
                r.label, r.tarpitted, r.p50, r.p99, base.p50, base.p99, r.p99 / base.p99, r.threads, r.rssKiB / 1024,
                r.heapKiB < 0 ? "-" : Long.toString(r.heapKiB / 1024), rssPer, heapPer, r.replies);
        }
        System.out.printf(Locale.ROOT, "No-load reference (columns 'no-load'): the lower p99 of the two no-load rows, \"%s\".%n", base.label);
        System.out.println("Memory per connection: (value at N - value at N=0 before the load) / N; heap measured right after a full GC (jcmd GC.run).");
        Row last = rows.get(rows.size() - 2);
        System.out.printf(Locale.ROOT, "Spam clients: shortest wait for a greeting %d ms (delay %d ms); %d refused at once (tarpit full); %d final refusals after a whole spam run.%n",
            last.greetingsMin, delay.toMillis(), last.refusedAtOnce, last.finalRefusals);
        System.out.printf(Locale.ROOT, "Goal at N=%d: p99 <= 2 x no-load p99 -> %.2f x (%s); threads %d at N=0, %d at N=%d.%n",
            last.n, last.p99 / base.p99, last.p99 <= 2 * base.p99 ? "met" : "NOT met", base.threads, last.threads, last.n);
    }
}
