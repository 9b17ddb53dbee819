package dev.spamtrap.core.firewall;

import java.io.Closeable;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One client connection to the agent, over TCP or a Unix socket, with a deadline on every connect, write and
 * read (NIO with a selector, so a hung agent never holds the sender longer than the timeout).
 */
final class AgentConnection implements Closeable {
    private static final int MAX_REPLY = 1024;

    private final SocketChannel channel;
    private final Selector selector;
    private final ByteBuffer in = ByteBuffer.allocate(4096);

    private AgentConnection(SocketChannel channel, Selector selector) {
        this.channel = channel;
        this.selector = selector;
    }

    static AgentConnection open(AgentEndpoint endpoint, Duration timeout) throws IOException {
        SocketChannel ch = endpoint.isUnix() ? UnixSockets.open() : SocketChannel.open();
        Selector sel = null;
        try {
            sel = Selector.open();
            ch.configureBlocking(false);
            long deadline = System.nanoTime() + timeout.toNanos();
            if (!ch.connect(endpoint.address())) {
                SelectionKey key = ch.register(sel, SelectionKey.OP_CONNECT);
                while (!ch.finishConnect()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new SocketTimeoutException("connect to " + endpoint + " timed out after " + timeout.toMillis() + " ms");
                    }
                    sel.select(Math.max(1, left / 1_000_000));
                    sel.selectedKeys().clear();
                }
                key.cancel();
                sel.selectNow();
            }
            return new AgentConnection(ch, sel);
        } catch (IOException | RuntimeException e) {
            ch.close();
            if (sel != null) {
                sel.close();
            }
            throw e;
        }
    }

    void write(byte[] bytes, long deadlineNanos) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(bytes);
        SelectionKey key = channel.register(selector, SelectionKey.OP_WRITE);
        try {
            while (out.hasRemaining()) {
                if (channel.write(out) == 0) {
                    long left = deadlineNanos - System.nanoTime();
                    if (left <= 0) {
                        throw new SocketTimeoutException("write to agent timed out");
                    }
                    selector.select(Math.max(1, left / 1_000_000));
                    selector.selectedKeys().clear();
                }
            }
        } finally {
            key.interestOps(0);
        }
    }

    /** A reply line if one has arrived (reading what the socket holds, without waiting), or null. */
    String readLineIfReady() throws IOException {
        String line = takeLine();
        if (line != null) {
            return line;
        }
        if (!in.hasRemaining()) {
            throw new IOException("agent reply longer than " + MAX_REPLY + " bytes");
        }
        if (channel.read(in) < 0) {
            throw new IOException("agent closed the connection");
        }
        return takeLine();
    }

    String readLine(long deadlineNanos) throws IOException {
        SelectionKey key = channel.register(selector, SelectionKey.OP_READ);
        try {
            while (true) {
                String line = takeLine();
                if (line != null) {
                    return line;
                }
                if (!in.hasRemaining()) {
                    throw new IOException("agent reply longer than " + MAX_REPLY + " bytes");
                }
                int n = channel.read(in);
                if (n < 0) {
                    throw new IOException("agent closed the connection");
                }
                if (n == 0) {
                    long left = deadlineNanos - System.nanoTime();
                    if (left <= 0) {
                        throw new SocketTimeoutException("no reply from agent in time");
                    }
                    selector.select(Math.max(1, left / 1_000_000));
                    selector.selectedKeys().clear();
                }
            }
        } finally {
            key.interestOps(0);
        }
    }

    private String takeLine() {
        for (int i = 0; i < in.position(); i++) {
            if (in.get(i) == '\n') {
                byte[] b = new byte[i];
                in.flip();
                in.get(b);
                in.get();
                in.compact();
                int len = b.length > 0 && b[b.length - 1] == '\r' ? b.length - 1 : b.length;
                return new String(b, 0, Math.min(len, MAX_REPLY), StandardCharsets.US_ASCII);
            }
        }
        return null;
    }

    @Override
    public void close() {
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
