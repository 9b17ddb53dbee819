package dev.spamtrap.it.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Holds N spammer connections to the SMTP server from one thread (NIO): each plays a whole spam run,
 * EHLO, MAIL, RCPT, DATA, the message, and waits for the final reply; when the server closes the connection
 * it opens a new one, so N stay open. Source addresses rotate over the given 127.0.0.x list.
 */
final class TarpitLoad implements AutoCloseable {
    private static final byte[][] SCRIPT = {
        ascii("EHLO spammer.bench\r\n"),
        ascii("MAIL FROM:<offers@spammer.bench>\r\n"),
        null, // RCPT, filled in per run
        ascii("DATA\r\n"),
        ascii("Subject: cheap offers\r\n\r\nBuy now.\r\n.\r\n"),
    };
    private static final int MAX_PENDING_CONNECTS = 200;

    private final InetSocketAddress server;
    private final List<InetAddress> sources;
    private final byte[] rcpt;
    private final Selector selector;
    private final Thread thread;
    private final Set<Conn> conns = new HashSet<>();
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(16 * 1024);
    private volatile int target;
    private volatile boolean stopping;
    private int nextSource;
    private int pendingConnects;

    final AtomicLong opened = new AtomicLong();
    final AtomicLong connectFailures = new AtomicLong();
    final AtomicLong greetings = new AtomicLong();
    final AtomicLong replies = new AtomicLong();
    final AtomicLong refusedAtOnce = new AtomicLong();
    final AtomicLong finalRefusals = new AtomicLong();
    final AtomicLong closedByServer = new AtomicLong();
    final AtomicLong minGreetingMillis = new AtomicLong(Long.MAX_VALUE);
    private volatile int open;

    private final class Conn {
        final SocketChannel channel;
        final long connectedAt = System.nanoTime();
        final StringBuilder line = new StringBuilder();
        int step = -1; // -1: waiting for the greeting

        Conn(SocketChannel channel) {
            this.channel = channel;
        }
    }

    TarpitLoad(int port, List<InetAddress> sources, String recipient) throws IOException {
        this.server = new InetSocketAddress("127.0.0.1", port);
        this.sources = List.copyOf(sources);
        this.rcpt = ascii("RCPT TO:<" + recipient + ">\r\n");
        this.selector = Selector.open();
        this.thread = new Thread(this::run, "tarpit-load");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    void target(int n) {
        this.target = n;
        selector.wakeup();
    }

    int open() {
        return open;
    }

    private void run() {
        try {
            while (!stopping) {
                adjust();
                selector.select(50);
                for (SelectionKey key : selector.selectedKeys()) {
                    Conn c = (Conn) key.attachment();
                    try {
                        if (!key.isValid()) {
                            drop(c);
                        } else if (key.isConnectable()) {
                            finishConnect(key, c);
                        } else if (key.isReadable()) {
                            read(c);
                        }
                    } catch (IOException e) {
                        drop(c);
                    }
                }
                selector.selectedKeys().clear();
                open = conns.size();
            }
        } catch (IOException e) {
            System.err.println("load generator failed: " + e);
        } finally {
            for (Conn c : new ArrayList<>(conns)) {
                closeQuietly(c);
            }
            conns.clear();
            open = 0;
        }
    }

    private void adjust() {
        int want = target;
        while (conns.size() < want && pendingConnects < MAX_PENDING_CONNECTS) {
            InetAddress source = sources.get(nextSource++ % sources.size());
            try {
                SocketChannel ch = SocketChannel.open();
                ch.configureBlocking(false);
                ch.bind(new InetSocketAddress(source, 0));
                Conn c = new Conn(ch);
                conns.add(c);
                pendingConnects++;
                if (ch.connect(server)) {
                    pendingConnects--;
                    opened.incrementAndGet();
                    ch.register(selector, SelectionKey.OP_READ, c);
                } else {
                    ch.register(selector, SelectionKey.OP_CONNECT, c);
                }
            } catch (IOException e) {
                connectFailures.incrementAndGet();
                break;
            }
        }
        if (conns.size() > want) {
            List<Conn> extra = new ArrayList<>(conns).subList(0, conns.size() - want);
            for (Conn c : new ArrayList<>(extra)) {
                drop(c);
            }
        }
    }

    private void finishConnect(SelectionKey key, Conn c) throws IOException {
        pendingConnects--;
        try {
            c.channel.finishConnect();
        } catch (IOException e) {
            connectFailures.incrementAndGet();
            conns.remove(c);
            closeQuietly(c);
            return;
        }
        opened.incrementAndGet();
        key.interestOps(SelectionKey.OP_READ);
    }

    private void read(Conn c) throws IOException {
        readBuffer.clear();
        int n = c.channel.read(readBuffer);
        if (n < 0) {
            closedByServer.incrementAndGet();
            drop(c);
            return;
        }
        readBuffer.flip();
        while (readBuffer.hasRemaining()) {
            char ch = (char) (readBuffer.get() & 0xff);
            if (ch == '\n') {
                String l = c.line.toString();
                c.line.setLength(0);
                if (l.length() >= 4 && l.charAt(3) == '-') {
                    continue; // more lines of the same reply
                }
                onReply(c, l);
                if (!c.channel.isOpen()) {
                    return;
                }
            } else if (ch != '\r' && c.line.length() < 1024) {
                c.line.append(ch);
            }
        }
    }

    private void onReply(Conn c, String reply) throws IOException {
        replies.incrementAndGet();
        if (c.step == -1) {
            if (!reply.startsWith("220")) {
                refusedAtOnce.incrementAndGet();
                drop(c);
                return;
            }
            greetings.incrementAndGet();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - c.connectedAt);
            minGreetingMillis.accumulateAndGet(ms, Math::min);
        }
        c.step++;
        if (c.step < SCRIPT.length) {
            byte[] cmd = SCRIPT[c.step] == null ? rcpt : SCRIPT[c.step];
            c.channel.write(ByteBuffer.wrap(cmd));
        } else {
            if (reply.startsWith("4") || reply.startsWith("5")) {
                finalRefusals.incrementAndGet();
            }
            // the server closes after its final reply; if it does not, hang up ourselves
            drop(c);
        }
    }

    private void drop(Conn c) {
        if (conns.remove(c)) {
            if (c.step == -1 && !c.channel.isConnected()) {
                pendingConnects = Math.max(0, pendingConnects - (c.channel.isConnectionPending() ? 1 : 0));
            }
        }
        closeQuietly(c);
    }

    private static void closeQuietly(Conn c) {
        try {
            c.channel.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
        stopping = true;
        selector.wakeup();
        try {
            thread.join(10_000);
            selector.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException ignored) {
            // closing
        }
    }
}
