package dev.spamtrap.agent;

import dev.spamtrap.agent.reconcile.ActiveOffenderSource;
import dev.spamtrap.core.firewall.FirewallCommand;
import dev.spamtrap.core.firewall.FirewallKey;
import dev.spamtrap.core.firewall.MessageCodec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** An agent in the test JVM on a random loopback port, with a recording runner instead of nft. */
public final class TestAgent implements AutoCloseable {
    public static final byte[] KEY_BYTES = new byte[32];

    static {
        for (int i = 0; i < KEY_BYTES.length; i++) {
            KEY_BYTES[i] = (byte) (i * 31 + 7);
        }
    }

    public final FakeRunner runner;
    public final Agent agent;
    public final InetSocketAddress address;
    public final MessageCodec codec = new MessageCodec(FirewallKey.of(KEY_BYTES));
    public final Path dir;

    public TestAgent(Path dir, Map<String, String> settings, FakeRunner runner, ActiveOffenderSource source, List<InetAddress> own) throws Exception {
        this.dir = dir;
        this.runner = runner;
        Map<String, String> withDrift = new java.util.HashMap<>(settings);
        withDrift.putIfAbsent("drift.checkInterval", "0s"); // the recording runner has no kernel to list
        Path config = writeConfig(dir, withDrift);
        this.agent = new Agent.Builder(AgentConfig.load(config)).runner(runner).source(source).localAddresses(own).build().start();
        this.address = (InetSocketAddress) agent.boundAddresses().get(0);
    }

    public static Path writeConfig(Path dir, Map<String, String> settings) throws IOException {
        Path key = dir.resolve("agent.key");
        if (!Files.exists(key)) {
            Files.writeString(key, Base64.getEncoder().encodeToString(KEY_BYTES) + "\n");
            Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        }
        StringBuilder b = new StringBuilder();
        b.append("key.file = agent.key\n");
        b.append("listen.tcp = 127.0.0.1:0\n");
        b.append("reconcile.source = none\n");
        b.append("backend = nftables\n");
        for (Map.Entry<String, String> e : settings.entrySet()) {
            b.append(e.getKey()).append(" = ").append(e.getValue()).append('\n');
        }
        Path config = dir.resolve("agent.properties");
        Files.writeString(config, b.toString());
        return config;
    }

    /** One signed message carrying these commands, as its text (every line with its newline). */
    public String sign(FirewallCommand... commands) {
        return signAt(System.currentTimeMillis(), MessageCodec.newNonce(), commands);
    }

    public String signAt(long millis, String nonce, FirewallCommand... commands) {
        return new String(codec.encode(List.of(commands), endpoint(), millis, nonce), StandardCharsets.US_ASCII);
    }

    /** The nonce of a message made by {@link #sign}. */
    public static String nonceOf(String message) {
        return message.split("\n", 2)[0].split(" ")[3];
    }

    /** How James names this agent: its TCP endpoint. */
    public String endpoint() {
        return dev.spamtrap.core.firewall.AgentEndpoint.tcp(address).toString();
    }

    /**
     * Sends messages on one connection (a text without its final newline gets one) and returns one reply per
     * message, its lines joined by newlines (or fewer if the agent closes): the refusals of single commands
     * ({@code ERR <nonce>/<i> ...}) and the last line.
     */
    public List<String> send(String... messages) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(address, 2000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            for (String m : messages) {
                out.write((m.endsWith("\n") ? m : m + "\n").getBytes(StandardCharsets.ISO_8859_1));
            }
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            List<String> replies = new ArrayList<>();
            StringBuilder reply = new StringBuilder();
            while (replies.size() < messages.length) {
                String r = in.readLine();
                if (r == null) {
                    break;
                }
                reply.append(reply.length() == 0 ? "" : "\n").append(r);
                if (!r.matches("ERR [0-9a-f]{16}/.*")) {
                    replies.add(reply.toString());
                    reply.setLength(0);
                }
            }
            return replies;
        }
    }

    public String sendOne(String message) throws IOException {
        List<String> r = send(message);
        return r.isEmpty() ? null : r.get(0);
    }

    @Override
    public void close() {
        agent.close();
    }
}
