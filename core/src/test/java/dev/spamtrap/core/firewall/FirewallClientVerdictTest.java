package dev.spamtrap.core.firewall;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A small fake agent over real loopback TCP: "BUSY" and "ERR -" are no verdict (retried, never counted as
 * refusals), "ERR nonce" is a refusal (not retried), and the client keeps one connection for many commands.
 */
class FirewallClientVerdictTest {

    @Test
    void busyIsRetriedAndNeverARefusalWhileErrIsARefusalAndOneConnectionIsKept() throws Exception {
        List<String> received = new CopyOnWriteArrayList<>();
        int[] connections = {0};
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread agent = new Thread(() -> {
                int line = 0;
                while (!server.isClosed()) {
                    try (Socket s = server.accept()) {
                        connections[0]++;
                        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                        OutputStream out = s.getOutputStream();
                        if (connections[0] == 1) {
                            out.write("BUSY - too many connections\n".getBytes(StandardCharsets.US_ASCII));
                            continue;
                        }
                        String l;
                        while ((l = in.readLine()) != null) {
                            received.add(l);
                            String nonce = l.split(" ")[3];
                            line++;
                            String reply = line == 1 ? "BUSY " + nonce + " agent busy, no result in time"
                                : l.contains("192.0.2.66") ? "ERR " + nonce + " 192.0.2.66 is allowlisted"
                                : "OK " + nonce + " blocked";
                            out.write((reply + "\n").getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                        }
                    } catch (Exception e) {
                        // next connection
                    }
                }
            });
            agent.setDaemon(true);
            agent.start();
            FirewallClient.Options options = new FirewallClient.Options().initialBackoff(Duration.ofMillis(50)).maxAttempts(5);
            try (FirewallClient client = new FirewallClient(AgentEndpoint.tcp((InetSocketAddress) server.getLocalSocketAddress()),
                FirewallKey.of(new byte[32]), Clock.systemUTC(), options)) {
                client.submit(FirewallCommand.block("192.0.2.7", 60));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (client.acceptedCount() < 1 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertThat(client.acceptedCount()).isEqualTo(1);
                assertThat(client.refusedCount()).isZero(); // two BUSY replies before: no refusal
                assertThat(client.agentReachable()).isTrue();

                client.submit(FirewallCommand.block("192.0.2.66", 60));
                client.submit(FirewallCommand.block("192.0.2.8", 60));
                while (client.sentCount() < 3 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertThat(client.refusedCount()).isEqualTo(1);
                assertThat(client.acceptedCount()).isEqualTo(2);
                assertThat(client.droppedCount()).isZero();
                // BUSY at connect, then a BUSY verdict-less reply on the second connection; then that connection is kept
                assertThat(connections[0]).isEqualTo(3);
                assertThat(received).hasSize(4);
            }
        }
    }
}
