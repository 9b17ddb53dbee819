package dev.spamtrap.agent.safety;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The server's own addresses as seen where the rules live: when the firewall command runs in another network
 * namespace ({@code ip netns exec NS ...}), the addresses of that namespace ({@code ip -n NS -o addr show}),
 * otherwise those of the agent's own namespace.
 */
public final class NamespaceAddresses {
    private final Optional<String> namespace;

    public NamespaceAddresses(List<String> firewallCommand) {
        this.namespace = namespaceOf(firewallCommand);
    }

    /** NS of a command starting with {@code ip netns exec NS}. */
    static Optional<String> namespaceOf(List<String> argv) {
        if (argv.size() > 3 && argv.get(0).endsWith("ip") && argv.get(1).equals("netns") && argv.get(2).equals("exec")) {
            return Optional.of(argv.get(3));
        }
        return Optional.empty();
    }

    public String describe() {
        return namespace.map(ns -> "network namespace " + ns).orElse("the agent's network namespace");
    }

    public List<InetAddress> read() throws IOException {
        if (namespace.isEmpty()) {
            return SafetyRails.localAddresses();
        }
        Process p = new ProcessBuilder("ip", "-n", namespace.get(), "-o", "addr", "show").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("ip -n " + namespace.get() + " -o addr show failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        return parse(out);
    }

    /** Lines like {@code 2: vs0    inet 10.0.0.1/24 brd ...} and {@code inet6 fd00::1/64 scope global}. */
    static List<InetAddress> parse(String out) throws IOException {
        List<InetAddress> addresses = new ArrayList<>();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            for (int i = 0; i + 1 < f.length; i++) {
                if (f[i].equals("inet") || f[i].equals("inet6")) {
                    String a = f[i + 1];
                    int slash = a.indexOf('/');
                    String literal = slash < 0 ? a : a.substring(0, slash);
                    if (literal.matches("[0-9a-fA-F:.]+")) {
                        addresses.add(InetAddress.getByName(literal));
                    }
                    break;
                }
            }
        }
        return addresses;
    }
}
