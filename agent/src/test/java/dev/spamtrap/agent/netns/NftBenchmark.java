package dev.spamtrap.agent.netns;

import dev.spamtrap.agent.apply.Applier;
import dev.spamtrap.agent.apply.Outcome;
import dev.spamtrap.agent.apply.RebuildReport;
import dev.spamtrap.agent.backend.NftablesBackend;
import dev.spamtrap.agent.backend.ProcessCommandRunner;
import dev.spamtrap.agent.net.Prefix;
import dev.spamtrap.agent.reconcile.ActiveOffenderSource;
import dev.spamtrap.agent.reconcile.Reconciler;
import dev.spamtrap.agent.safety.CircuitBreaker;
import dev.spamtrap.agent.safety.SafetyRails;
import dev.spamtrap.core.offender.Offender;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Applies N blocks (default 100,000) with nftables inside a network namespace it creates (never the host's
 * firewall) and prints: batched through the agent's applier, one {@code nft} process per block (a measured
 * sample, extrapolated), and the start-up rebuild of N entries from an offender source.
 * Run: {@code agent/bench/agent-bench [N] [sample] [batchSize=20000]}.
 */
public final class NftBenchmark {
    private NftBenchmark() {
    }

    static String host(int i) {
        return "10." + ((i >> 16) & 0xff) + "." + ((i >> 8) & 0xff) + "." + (i & 0xff);
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int sample = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
        if (!"0".equals(Netns.run(List.of("id", "-u")).strip())) {
            System.err.println("agent-bench: needs root (it creates a network namespace for its nftables table)");
            System.exit(2);
        }
        String ns = Netns.name("st-bench");
        List<String> nft = List.of("ip", "netns", "exec", ns, "nft");
        try {
            Netns.create(ns);
            NftablesBackend backend = new NftablesBackend(new ProcessCommandRunner(), nft, "spamtrap", List.of(25), false, Duration.ofMinutes(10));
            backend.start();

            // 1. batched, through the applier as commands arrive (breaker out of the way for the benchmark)
            Applier applier = new Applier(backend, new CircuitBreaker(Integer.MAX_VALUE, Clock.systemUTC()), Clock.systemUTC(), batch, 86_400 * 30, 10_000_000);
            applier.start();
            long t0 = System.nanoTime();
            List<CompletableFuture<Outcome>> results = new ArrayList<>(n);
            for (int i = 1; i <= n; i++) {
                results.add(applier.submit(Applier.Action.BLOCK, Prefix.parse(host(i)), 3600, "bench"));
            }
            CompletableFuture.allOf(results.toArray(new CompletableFuture[0])).get(30, TimeUnit.MINUTES);
            long batchedNanos = System.nanoTime() - t0;
            long applied = results.stream().filter(f -> f.join().isApplied()).count();
            int inSet = countElements(ns);
            applier.close();

            // 2. one nft process per block, on a sample
            Netns.check(List.of("ip", "netns", "exec", ns, "nft", "flush", "set", "inet", "spamtrap", "block4"));
            long t1 = System.nanoTime();
            for (int i = 1; i <= sample; i++) {
                Netns.check(List.of("ip", "netns", "exec", ns, "nft", "add", "element", "inet", "spamtrap", "block4",
                    "{", host(i), "timeout", "3600s", "}"));
            }
            long perBlockSampleNanos = System.nanoTime() - t1;
            double perBlockExtrapolated = perBlockSampleNanos / 1e9 * n / sample;

            // 3. start-up rebuild of n entries from an offender source (parse, safety rails, one nft transaction)
            Instant now = Instant.now();
            List<Offender> offenders = new ArrayList<>(n);
            for (int i = 1; i <= n; i++) {
                offenders.add(new Offender(host(i), now, now, 1, "t", null, null, "bench", now.plusSeconds(3600 + i % 600)));
            }
            ActiveOffenderSource source = new ActiveOffenderSource() {
                @Override
                public CompletionStage<List<Offender>> loadActive() {
                    return CompletableFuture.completedFuture(offenders);
                }

                @Override
                public String describe() {
                    return "in-memory source of " + n;
                }
            };
            Applier second = new Applier(backend, new CircuitBreaker(600, Clock.systemUTC()), Clock.systemUTC(), batch, 86_400 * 30, 10_000_000);
            second.start();
            SafetyRails rails = new SafetyRails.Builder().ownAddresses(SafetyRails.localAddresses()).build();
            Reconciler reconciler = new Reconciler(source, rails, second, Clock.systemUTC(), Duration.ofHours(1), Duration.ofMinutes(1));
            long t2 = System.nanoTime();
            RebuildReport report = reconciler.reconcile(true).get(30, TimeUnit.MINUTES);
            long rebuildNanos = System.nanoTime() - t2;
            int afterRebuild = countElements(ns);
            reconciler.close();
            second.close();

            System.out.println();
            System.out.println("nftables benchmark in namespace " + ns + " (nft via 'ip netns exec', " + Runtime.getRuntime().availableProcessors() + " cores)");
            System.out.println("+--------------------------------------------------------------+--------------+-------------+");
            System.out.println("| what                                                         |      seconds |  blocks/s   |");
            System.out.println("+--------------------------------------------------------------+--------------+-------------+");
            row(String.format(Locale.ROOT, "%,d blocks batched (applier, %,d per nft -f)", n, batch), batchedNanos / 1e9, n);
            row(String.format(Locale.ROOT, "%,d blocks, one nft call each (measured)", sample), perBlockSampleNanos / 1e9, sample);
            row(String.format(Locale.ROOT, "%,d blocks, one nft call each (extrapolated x%d)", n, n / sample), perBlockExtrapolated, n);
            row(String.format(Locale.ROOT, "start-up rebuild of %,d entries (one transaction)", n), rebuildNanos / 1e9, n);
            System.out.println("+--------------------------------------------------------------+--------------+-------------+");
            System.out.printf(Locale.ROOT, "batched: %,d applied, %,d elements in the set afterwards; rebuild: %s; %,d elements afterwards%n",
                applied, inSet, report, afterRebuild);
            System.out.printf(Locale.ROOT, "speed-up batched vs per-block: %.0fx; goal 100,000 batched in < 10 s: %s%n",
                perBlockExtrapolated / (batchedNanos / 1e9), batchedNanos / 1e9 * 100_000 / n < 10 ? "MET" : "NOT MET");
        } finally {
            Netns.delete(ns);
        }
    }

    private static void row(String what, double seconds, int count) {
        System.out.printf(Locale.ROOT, "| %-60s | %12.2f | %11.0f |%n", what, seconds, count / seconds);
    }

    private static int countElements(String ns) {
        String out = Netns.run(List.of("ip", "netns", "exec", ns, "nft", "list", "set", "inet", "spamtrap", "block4"));
        int count = 0;
        int i = 0;
        while ((i = out.indexOf(" expires ", i)) >= 0) {
            count++;
            i += 9;
        }
        return count;
    }
}
