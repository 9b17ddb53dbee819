package dev.spamtrap.it.stack;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain-socket SMTP client that shows replies exactly as sent (no library smoothing them over).
 * It can bind a chosen local address, so 127.0.0.2, 127.0.0.3 ... act as different outside hosts.
 */
public final class SmtpClient implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;

    public SmtpClient(String localAddress, int port, int readTimeoutMillis) {
        try {
            socket = new Socket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(readTimeoutMillis);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static SmtpClient connect(String localAddress, int port) {
        return new SmtpClient(localAddress, port, 30_000);
    }

    /** Reads one reply, all its lines, joined by "\n"; null when the server closed the connection. */
    public String reply() {
        try {
            StringBuilder sb = new StringBuilder();
            while (true) {
                String line = in.readLine();
                if (line == null) {
                    return sb.length() == 0 ? null : sb.toString();
                }
                if (sb.length() > 0) {
                    sb.append('\n');
                }
                sb.append(line);
                if (line.length() < 4 || line.charAt(3) != '-') {
                    return sb.toString();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String command(String line) {
        write(line + "\r\n");
        return reply();
    }

    public void write(String raw) {
        try {
            out.write(raw.getBytes(StandardCharsets.US_ASCII));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Everything the server still sends until it closes the connection. */
    public List<String> readUntilClosed() {
        List<String> lines = new ArrayList<>();
        try {
            String line;
            while ((line = in.readLine()) != null) {
                lines.add(line);
            }
        } catch (IOException e) {
            // reset by peer counts as closed
        }
        return lines;
    }

    /**
     * A whole delivery: EHLO, MAIL, each RCPT, DATA, the message, QUIT. Returns every reply in order
     * (the greeting first).
     */
    public static List<String> deliver(String localAddress, int port, String from, List<String> rcpts, String subject) {
        List<String> replies = new ArrayList<>();
        try (SmtpClient c = connect(localAddress, port)) {
            replies.add(c.reply());
            replies.add(c.command("EHLO client.test"));
            replies.add(c.command("MAIL FROM:<" + from + ">"));
            for (String r : rcpts) {
                replies.add(c.command("RCPT TO:<" + r + ">"));
            }
            replies.add(c.command("DATA"));
            replies.add(c.command("From: <" + from + ">\r\nTo: <" + rcpts.get(0) + ">\r\nSubject: " + subject
                + "\r\nMessage-ID: <" + System.nanoTime() + "@client.test>\r\n\r\nHello, this is " + subject + ".\r\n."));
            replies.add(c.command("QUIT"));
        }
        return replies;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
