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
 * refusals), "ERR nonce/i" refuses one command of a message and "ERR nonce" all of them (not retried), and the
 * client keeps one connection for many commands.
 */
class FirewallClientVerdictTest {

    @Test
    void busyIsRetriedAndNeverARefusalWhileErrIsARefusalAndOneConnectionIsKept() throws Exception {
        List<String> received = new CopyOnWriteArrayList<>();
        int[] connections = {0};
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread agent = new Thread(() -> {
                int message = 0;
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
                            String[] header = l.split(" ");
                            String nonce = header[3];
                            List<String> commands = new java.util.ArrayList<>();
                            for (int i = Integer.parseInt(header[4]); i > 0; i--) {
                                commands.add(in.readLine());
                            }
                            in.readLine(); // the HMAC line
                            received.addAll(commands);
                            message++;
                            StringBuilder reply = new StringBuilder();
                            if (message == 1) {
                                reply.append("BUSY ").append(nonce).append(" agent busy, no result in time\n");
                            } else {
                                int refused = 0;
                                for (int i = 0; i < commands.size(); i++) {
                                    if (commands.get(i).contains("192.0.2.66")) {
                                        reply.append("ERR ").append(nonce).append('/').append(i + 1).append(" 192.0.2.66 is allowlisted\n");
                                        refused++;
                                    }
                                }
                                reply.append("OK ").append(nonce).append(' ').append(commands.size() - refused).append(" of ").append(commands.size())
                                    .append(" applied\n");
                            }
                            out.write(reply.toString().getBytes(StandardCharsets.US_ASCII));
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

    @Test
    void aMessageRefusedWholeCountsEveryCommandAsRefused() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread agent = new Thread(() -> {
                try (Socket s = server.accept()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                    OutputStream out = s.getOutputStream();
                    String l;
                    while ((l = in.readLine()) != null) {
                        String[] header = l.split(" ");
                        for (int i = Integer.parseInt(header[4]); i >= 0; i--) {
                            in.readLine(); // the commands and the HMAC line
                        }
                        out.write(("ERR " + header[3] + " stale message: signed 40000 ms ago\n").getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                } catch (Exception e) {
                    // the test ends
                }
            });
            agent.setDaemon(true);
            agent.start();
            try (FirewallClient client = new FirewallClient(AgentEndpoint.tcp((InetSocketAddress) server.getLocalSocketAddress()),
                FirewallKey.of(new byte[32]), Clock.systemUTC(), new FirewallClient.Options())) {
                for (int i = 1; i <= 3; i++) {
                    client.submit(FirewallCommand.block("192.0.2." + i, 60));
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (client.sentCount() < 3 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertThat(client.refusedCount()).isEqualTo(3);
                assertThat(client.acceptedCount()).isZero();
                assertThat(client.droppedCount()).isZero();
            }
        }
    }
}
