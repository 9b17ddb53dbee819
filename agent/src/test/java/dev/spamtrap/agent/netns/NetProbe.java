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
 * {@code listen <ip> <port>} answers every connection with a banner, then echoes each line; {@code client} reads
 * {@code connect <src> <dst> <port> <timeout-ms>} (a new connection that gets the banner),
 * {@code open <name> <src> <dst> <port> <timeout-ms>} (the same, kept open) and {@code talk <name>} (a line
 * echoed on that open connection) on stdin and prints {@code OK} or {@code FAIL <why>}.
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
                    Socket s = server.accept();
                    Thread t = new Thread(() -> echo(s));
                    t.setDaemon(true);
                    t.start();
                }
            }
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        System.out.println("READY");
        System.out.flush();
        String line;
        java.util.Map<String, Socket> held = new java.util.HashMap<>();
        while ((line = in.readLine()) != null) {
            String[] f = line.trim().split(" ");
            if (f[0].equals("open") || f[0].equals("talk")) {
                System.out.println(f[0].equals("open") ? open(held, f) : talk(held.get(f[1])));
                System.out.flush();
                continue;
            }
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

    private static void echo(Socket s) {
        try (s) {
            OutputStream out = s.getOutputStream();
            out.write("220 probe ready\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            String l;
            while ((l = r.readLine()) != null) {
                out.write(("250 " + l + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (Exception ignored) {
            // the client went away
        }
    }

    private static String open(java.util.Map<String, Socket> held, String[] f) {
        try {
            Socket s = new Socket();
            s.bind(new InetSocketAddress(InetAddress.getByName(f[2]), 0));
            s.connect(new InetSocketAddress(InetAddress.getByName(f[3]), Integer.parseInt(f[4])), Integer.parseInt(f[5]));
            s.setSoTimeout(Integer.parseInt(f[5]));
            held.put(f[1], s);
            return talkLine(s, null);
        } catch (Exception e) {
            return "FAIL " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    private static String talk(Socket s) {
        try {
            return talkLine(s, "NOOP");
        } catch (Exception e) {
            return "FAIL " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    /** Sends {@code text} (if any) and reads one reply line byte by byte (no buffering across calls). */
    private static String talkLine(Socket s, String text) throws java.io.IOException {
        if (text != null) {
            s.getOutputStream().write((text + "\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
        }
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = s.getInputStream().read()) >= 0 && c != '\n') {
            b.append((char) c);
        }
        String reply = b.toString().trim();
        return reply.startsWith(text == null ? "220" : "250") ? "OK" : "FAIL got '" + reply + "'";
    }
}
