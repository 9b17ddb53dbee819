package dev.spamtrap.agent.netns;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A tiny TCP peer run inside a test's network namespace with {@code ip netns exec NS java -cp ... NetProbe}:
 * {@code listen <ip> <port>} answers every connection with a banner; {@code client} reads
 * {@code connect <src> <dst> <port> <timeout-ms>} lines on stdin and prints {@code OK} or {@code FAIL <why>}.
 */
public final class NetProbe {
    private NetProbe() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("listen")) {
            try (ServerSocket server = new ServerSocket()) {
                server.bind(new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2])));
                System.out.println("READY");
                System.out.flush();
                while (true) {
                    try (Socket s = server.accept()) {
                        OutputStream out = s.getOutputStream();
                        out.write("220 probe ready\r\n".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                }
            }
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        System.out.println("READY");
        System.out.flush();
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.trim().split(" ");
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress(InetAddress.getByName(f[1]), 0));
                s.connect(new InetSocketAddress(InetAddress.getByName(f[2]), Integer.parseInt(f[3])), Integer.parseInt(f[4]));
                s.setSoTimeout(Integer.parseInt(f[4]));
                String banner = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
                System.out.println(banner != null && banner.startsWith("220") ? "OK" : "FAIL no banner");
            } catch (Exception e) {
                System.out.println("FAIL " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            System.out.flush();
        }
    }
}
