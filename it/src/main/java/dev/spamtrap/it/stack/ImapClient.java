package dev.spamtrap.it.stack;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Just enough IMAP to see what a user would see in INBOX. */
public final class ImapClient implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;
    private int tag;

    public ImapClient(int port) {
        try {
            socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(20_000);
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            out = socket.getOutputStream();
            in.readLine();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends a command; returns every line up to and including the tagged completion. */
    public String command(String command) {
        String t = "a" + (++tag);
        try {
            out.write((t + " " + command + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            StringBuilder sb = new StringBuilder();
            String line;
            while ((line = in.readLine()) != null) {
                sb.append(line).append('\n');
                if (line.startsWith(t + " ")) {
                    if (!line.startsWith(t + " OK")) {
                        throw new IllegalStateException("IMAP " + command + " failed: " + line);
                    }
                    break;
                }
            }
            return sb.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Logs in, and returns all of INBOX's messages as raw text (empty string when INBOX is empty). */
    public static String inbox(int port, String user, String password) {
        try (ImapClient c = new ImapClient(port)) {
            c.command("LOGIN " + user + " " + password);
            String select = c.command("SELECT INBOX");
            if (select.contains("* 0 EXISTS")) {
                return "";
            }
            try {
                return c.command("FETCH 1:* (BODY.PEEK[])");
            } catch (IllegalStateException e) {
                // SELECT's EXISTS is the mailbox's count, FETCH reads the session's own view of the mailbox, which
                // learns of a message delivered during SELECT a moment later ("BAD FETCH failed. Invalid messageset").
                // The session saw an empty INBOX then; callers poll.
                if (e.getMessage().contains("Invalid messageset")) {
                    return "";
                }
                throw e;
            }
        }
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
