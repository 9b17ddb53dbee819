package dev.spamtrap.it.firewall;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A client host's view, run inside a client network namespace ({@code ip netns exec CLI java ...}):
 * {@code trap BIND HOST PORT} sends one message to a trap and prints the replies;
 * {@code connect BIND HOST PORT} prints {@code CONNECTED <first line>} or {@code NOCONNECT <why>}.
 */
public final class FirewallProbe {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String bind = args[1];
        String host = args[2];
        int port = Integer.parseInt(args[3]);
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(bind), 0));
            try {
                s.connect(new InetSocketAddress(host, port), 3000);
            } catch (Exception e) {
                System.out.println("NOCONNECT " + e.getClass().getSimpleName() + ": " + e.getMessage());
                return;
            }
            s.setSoTimeout(30_000);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            String greeting = in.readLine();
            if (mode.equals("connect")) {
                System.out.println("CONNECTED " + greeting);
                return;
            }
            List<String> replies = new ArrayList<>();
            replies.add(greeting);
            for (String cmd : List.of("EHLO bot.test", "MAIL FROM:<bot@spam.test>", "RCPT TO:<trap@example.com>", "DATA",
                "Subject: firewall\r\n\r\nspam\r\n.", "QUIT")) {
                out.write((cmd + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String line;
                StringBuilder reply = new StringBuilder();
                while ((line = in.readLine()) != null) {
                    reply.append(line).append(' ');
                    if (line.length() < 4 || line.charAt(3) != '-') {
                        break;
                    }
                }
                replies.add(reply.toString().trim());
            }
            System.out.println("REPLIES " + String.join(" | ", replies));
        }
    }
}
