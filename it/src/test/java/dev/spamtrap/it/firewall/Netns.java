package dev.spamtrap.it.firewall;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs commands (argument vectors, never a shell line) and network-namespace chores for firewall tests. */
public final class Netns {
    private Netns() {
    }

    public static final class Result {
        public final int code;
        public final String output;

        Result(int code, String output) {
            this.code = code;
            this.output = output;
        }
    }

    public static Result run(List<String> argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timeout: " + argv);
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            return new Result(-1, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    public static String must(String... argv) {
        Result r = run(List.of(argv));
        if (r.code != 0) {
            throw new IllegalStateException(String.join(" ", argv) + " failed (" + r.code + "): " + r.output);
        }
        return r.output;
    }

    public static List<String> in(String ns, String... argv) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        cmd.addAll(List.of(argv));
        return cmd;
    }

    public static String inMust(String ns, String... argv) {
        return must(in(ns, argv).toArray(new String[0]));
    }

    /** Why this machine cannot run the namespace tests, or null when it can. */
    public static String whyNot() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "not root (network namespaces and nftables need root)";
        }
        if (run(List.of("nft", "--version")).code != 0) {
            return "nft is not installed (apt-get install nftables)";
        }
        if (run(List.of("ip", "-V")).code != 0) {
            return "ip (iproute2) is not installed";
        }
        String probe = "stprobe" + ProcessHandle.current().pid();
        Result add = run(List.of("ip", "netns", "add", probe));
        if (add.code != 0) {
            return "cannot create a network namespace: " + add.output;
        }
        run(List.of("ip", "netns", "delete", probe));
        return null;
    }
}
