package dev.spamtrap.agent.server;

import dev.spamtrap.core.firewall.AgentEndpoint;
import dev.spamtrap.core.firewall.WireFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Listens on loopback TCP and/or a Unix socket and hands each received line to the connection's
 * {@link CommandProcessor.Session}. One thread per connection, at most {@code maxConnections}. A connection is
 * "proven" once one of its messages was authentic and answered OK (it holds the key: James's long-lived connection).
 * Unproven connections must send within
 * {@code idleTimeout} or are closed; when the agent is full, or a peer holds {@code maxPerPeer} unproven
 * connections, the oldest unproven one is closed to make room, so idle connections can never lock James out.
 * Only when every slot is proven is a newcomer refused, with {@code BUSY} (which clients retry). A client may pipeline
 * messages (up to {@link #MAX_IN_FLIGHT} commands awaiting their reply); they are read as they come, applied together,
 * and answered in order by a writer thread of the connection. A line longer than {@link WireFormat#MAX_LINE_BYTES},
 * a bad header or a bad HMAC line is refused and the connection closed (there is no safe way to find the next
 * message after it).
 */
public final class CommandServer implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(CommandServer.class);
    private static final long REPLY_TIMEOUT_SECONDS = 120;
    /** Commands of one connection waiting for their reply; the reader stops reading beyond this (James's client keeps 40,000 in flight). */
    static final int MAX_IN_FLIGHT = 50_000;

    private final List<AgentEndpoint> endpoints;
    private final CommandProcessor processor;
    private final String unixPermissions;
    private final int maxConnections;
    private final int maxPerPeer;
    private final long idleMillis;
    private final ExecutorService connections;
    private final List<ServerSocketChannel> servers = new CopyOnWriteArrayList<>();
    private final List<Conn> open = new ArrayList<>(); // guarded by itself
    private final List<Path> socketFiles = new ArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();
    private final java.util.concurrent.ScheduledExecutorService closers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "agent-linger");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;

    /** Proven connections idle longer than this are closed too (their client simply reconnects). */
    private static final long PROVEN_IDLE_MILLIS = 600_000;

    private static final class Conn {
        final SocketChannel channel;
        final String peer;
        final String peerKey;
        /** The endpoint the connection came in on, as James names it: messages must name it. */
        final String endpoint;
        volatile long lastActive = System.nanoTime();
        volatile boolean proven;

        Conn(SocketChannel channel, String peer, String peerKey, String endpoint) {
            this.endpoint = endpoint;
            this.channel = channel;
            this.peer = peer;
            this.peerKey = peerKey;
        }

        void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    public CommandServer(List<AgentEndpoint> endpoints, CommandProcessor processor, int maxConnections, String unixPermissions) {
        this(endpoints, processor, maxConnections, maxConnections, java.time.Duration.ofSeconds(10), unixPermissions);
    }

    public CommandServer(List<AgentEndpoint> endpoints, CommandProcessor processor, int maxConnections, int maxPerPeer,
                         java.time.Duration idleTimeout, String unixPermissions) {
        this.endpoints = List.copyOf(endpoints);
        this.processor = processor;
        this.unixPermissions = unixPermissions;
        this.maxConnections = maxConnections;
        this.maxPerPeer = maxPerPeer;
        this.idleMillis = idleTimeout.toMillis();
        this.connections = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "agent-conn-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Binds every endpoint; returns the bound addresses (a TCP port 0 becomes the real port). */
    public List<SocketAddress> start() throws IOException {
        closers.scheduleWithFixedDelay(this::closeIdle, 200, 200, TimeUnit.MILLISECONDS);
        List<SocketAddress> bound = new ArrayList<>();
        for (AgentEndpoint ep : endpoints) {
            ServerSocketChannel server;
            if (ep.isUnix()) {
                Path path = ((UnixDomainSocketAddress) ep.address()).getPath();
                if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                    if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                        throw new IOException(path + " exists and is not a socket; refusing to replace it");
                    }
                    Files.delete(path); // a stale socket from a previous run
                }
                server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                server.bind(ep.address());
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(unixPermissions));
                socketFiles.add(path);
            } else {
                server = ServerSocketChannel.open();
                server.bind(ep.address());
            }
            servers.add(server);
            SocketAddress local = server.getLocalAddress();
            bound.add(local);
            LOGGER.info("Listening for signed commands on {}", describe(local));
            String name = ep.isUnix() ? ep.toString() : AgentEndpoint.tcp((InetSocketAddress) local).toString();
            Thread t = new Thread(() -> acceptLoop(server, name), "agent-accept-" + describe(local));
            t.setDaemon(true);
            t.start();
        }
        return bound;
    }

    private static String describe(SocketAddress a) {
        return a instanceof UnixDomainSocketAddress ? "unix:" + ((UnixDomainSocketAddress) a).getPath() : "tcp:" + a;
    }

    private void acceptLoop(ServerSocketChannel server, String endpoint) {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOGGER.error("Accept failed on {}: {}", server, e.getMessage());
                }
                return;
            }
            String peer = peerOf(ch);
            Conn conn = new Conn(ch, peer, peerKey(ch, peer), endpoint);
            if (!admit(conn)) {
                LOGGER.warn("REFUSED connection from {}: all {} connections are in use by clients that hold the key", peer, maxConnections);
                try (ch) {
                    Channels.newOutputStream(ch).write("BUSY - too many connections\n".getBytes(StandardCharsets.US_ASCII));
                } catch (IOException ignored) {
                    // closing anyway
                }
                continue;
            }
            connections.execute(() -> {
                try {
                    serve(conn);
                } finally {
                    synchronized (open) {
                        open.remove(conn);
                    }
                    conn.close();
                }
            });
        }
    }

    /** Takes a slot for {@code conn}, closing the oldest unproven connection (of its peer, or of anyone) if needed. */
    private boolean admit(Conn conn) {
        Conn evict = null;
        synchronized (open) {
            Conn oldestOfPeer = null;
            Conn oldest = null;
            int ofPeer = 0;
            for (Conn c : open) {
                if (c.proven) {
                    continue;
                }
                if (oldest == null) {
                    oldest = c;
                }
                if (c.peerKey.equals(conn.peerKey)) {
                    ofPeer++;
                    if (oldestOfPeer == null) {
                        oldestOfPeer = c;
                    }
                }
            }
            if (ofPeer >= maxPerPeer) {
                evict = oldestOfPeer;
            } else if (open.size() >= maxConnections) {
                if (oldest == null) {
                    return false;
                }
                evict = oldest;
            }
            if (evict != null) {
                open.remove(evict);
            }
            open.add(conn);
        }
        if (evict != null) {
            LOGGER.warn("Closing idle connection from {} (it never sent a valid command) to make room for {}", evict.peer, conn.peer);
            evict.close();
        }
        return true;
    }

    /** The read deadline: unproven connections that stay silent, and proven ones idle for long, are closed. */
    private void closeIdle() {
        long now = System.nanoTime(); // monotonic: a wall-clock step closes no connection
        List<Conn> idle = new ArrayList<>();
        synchronized (open) {
            for (Conn c : open) {
                if (now - c.lastActive > (c.proven ? PROVEN_IDLE_MILLIS : idleMillis) * 1_000_000) {
                    idle.add(c);
                }
            }
        }
        for (Conn c : idle) {
            LOGGER.info("Closing connection from {}: nothing received for {} ms", c.peer, (now - c.lastActive) / 1_000_000);
            c.close();
        }
    }

    /** What "one peer" means: the client's IP address over TCP, its uid over a Unix socket. */
    private static String peerKey(SocketChannel ch, String peer) {
        try {
            SocketAddress remote = ch.getRemoteAddress();
            if (remote instanceof InetSocketAddress) {
                return ((InetSocketAddress) remote).getAddress().getHostAddress();
            }
            return "uid:" + ch.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED).user().getName();
        } catch (IOException | RuntimeException e) {
            return peer;
        }
    }

    private static String peerOf(SocketChannel ch) {
        try {
            SocketAddress remote = ch.getRemoteAddress();
            if (remote instanceof InetSocketAddress) {
                InetSocketAddress r = (InetSocketAddress) remote;
                return "tcp:" + r.getAddress().getHostAddress() + ":" + r.getPort();
            }
            String who = "unix:" + ((UnixDomainSocketAddress) ch.getLocalAddress()).getPath();
            try {
                who += " (peer " + ch.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED) + ")";
            } catch (IOException | UnsupportedOperationException e) {
                // peer credentials are a nicety for the log
            }
            return who;
        } catch (IOException e) {
            return "unknown peer";
        }
    }

    /** A message's reply on its way, and how many commands it answers (released from the connection's in-flight count once written). */
    private static final class Reply {
        final CompletableFuture<String> text;
        final int commands;

        Reply(CompletableFuture<String> text, int commands) {
            this.text = text;
            this.commands = commands;
        }
    }

    /** Marks the end of a connection's replies. */
    private static final Reply END = new Reply(null, 0);

    /**
     * Reads lines as they come and hands each to the connection's {@link CommandProcessor.Session}, which hands every
     * complete, authentic message to the applier at once, so that everything a client pipelines reaches the applier
     * together and is applied as one transaction; a writer thread of this connection sends the replies back in order
     * as they complete. At most {@link #MAX_IN_FLIGHT} commands wait for their reply: beyond that the reader stops
     * reading and TCP slows the client down (a busy agent slows James, it drops nothing). A line the reader cannot
     * place (too long, a bad header or HMAC line: where the next message starts is unknown) is answered and the
     * connection closed.
     */
    private void serve(Conn conn) {
        SocketChannel ch = conn.channel;
        String peer = conn.peer;
        int max = WireFormat.MAX_LINE_BYTES;
        byte[] buf = new byte[64 * 1024];
        int len = 0;
        CommandProcessor.Session session = processor.session(peer, conn.endpoint);
        BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
        Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
        Thread writer = new Thread(() -> writeReplies(conn, replies, inFlight), Thread.currentThread().getName() + "-replies");
        writer.setDaemon(true);
        writer.start();
        // direct channel reads and writes: the stream adapters of a channel lock it whole (blockingLock), so a reader
        // waiting for input would keep the writer from sending replies
        java.nio.ByteBuffer window = java.nio.ByteBuffer.wrap(buf);
        try {
            while (!closed) {
                int start = 0;
                String fatal = null;
                for (int i = 0; i < len; i++) {
                    if (buf[i] == '\n') {
                        if (i - start > max + 1) {
                            fatal = "oversized";
                            break;
                        }
                        CompletableFuture<String> reply = session.line(buf, start, i);
                        start = i + 1;
                        if (reply != null) {
                            int commands = Math.min(session.lastCount(), MAX_IN_FLIGHT);
                            inFlight.acquire(commands);
                            replies.put(new Reply(reply, commands));
                            if (session.lost()) {
                                fatal = "lost";
                                break;
                            }
                        }
                    }
                }
                if (fatal == null) {
                    System.arraycopy(buf, start, buf, 0, len - start);
                    len -= start;
                    if (len > max + 1) {
                        fatal = "oversized";
                    }
                }
                if (fatal != null) {
                    if (fatal.equals("oversized")) {
                        LOGGER.warn("REFUSED message from {} (oversized): a line longer than {} bytes; nothing applied, closing the connection", peer, max);
                        replies.put(new Reply(CompletableFuture.completedFuture("ERR - message line longer than " + max + " bytes"), 0));
                    } else {
                        LOGGER.warn("Closing the connection from {}: after that refusal, where its next message starts is unknown", peer);
                    }
                    replies.put(END);
                    writer.join(TimeUnit.SECONDS.toMillis(REPLY_TIMEOUT_SECONDS));
                    lingerAndClose(ch);
                    return;
                }
                window.limit(buf.length).position(len);
                int n = ch.read(window);
                if (n < 0) {
                    break;
                }
                len += n;
                conn.lastActive = System.nanoTime();
            }
            replies.put(END); // the client closed its side: the replies still due are written, then the connection closes
            writer.join(TimeUnit.SECONDS.toMillis(REPLY_TIMEOUT_SECONDS));
        } catch (IOException e) {
            if (!closed) {
                LOGGER.debug("Connection from {} ended: {}", peer, e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            writer.interrupt();
        }
    }

    /** Writes the replies in order, each batch of already completed ones in one write; marks the connection proven on an OK. */
    private void writeReplies(Conn conn, BlockingQueue<Reply> replies, Semaphore inFlight) {
        try {
            StringBuilder b = new StringBuilder();
            while (true) {
                Reply r = replies.take();
                boolean end = false;
                int released = 0;
                while (r != null) {
                    if (r == END) {
                        end = true;
                        break;
                    }
                    String reply;
                    try {
                        reply = r.text.get(REPLY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    } catch (TimeoutException e) {
                        reply = "BUSY - agent busy, no result in time";
                    } catch (ExecutionException e) {
                        reply = "ERR - internal error: " + String.valueOf(e.getCause()).replace('\n', ' ');
                    }
                    if (reply.startsWith("OK ") || reply.contains("\nOK ")) {
                        conn.proven = true;
                    }
                    b.append(reply).append('\n');
                    released += r.commands;
                    Reply next = replies.peek();
                    r = next != null && (next == END || next.text.isDone()) && b.length() < 256 * 1024 ? replies.poll() : null;
                }
                if (b.length() > 0) {
                    java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(b.toString().getBytes(StandardCharsets.US_ASCII));
                    while (bytes.hasRemaining()) {
                        conn.channel.write(bytes);
                    }
                    b.setLength(0);
                    conn.lastActive = System.nanoTime();
                }
                inFlight.release(released);
                if (end) {
                    return;
                }
            }
        } catch (IOException e) {
            if (!closed) {
                LOGGER.debug("Writing replies to {} failed: {}", conn.peer, e.getMessage());
            }
            conn.close();
        } catch (InterruptedException e) {
            // the connection is closing
        }
    }

    /**
     * Half-closes, then discards what the client still sends (up to 64 KiB, at most 2 s) so that it reads the
     * refusal instead of a connection reset caused by unread data.
     */
    private void lingerAndClose(SocketChannel ch) throws IOException {
        ch.shutdownOutput();
        var closer = closers.schedule(() -> {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }, 2, TimeUnit.SECONDS);
        java.nio.ByteBuffer sink = java.nio.ByteBuffer.allocate(4096);
        int total = 0;
        try {
            int n;
            while (total < 65536 && (n = ch.read(sink.clear())) >= 0) {
                total += n;
            }
        } finally {
            closer.cancel(false);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (ServerSocketChannel s : servers) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        List<Conn> all;
        synchronized (open) {
            all = new ArrayList<>(open);
        }
        all.forEach(Conn::close);
        connections.shutdownNow();
        closers.shutdownNow();
        for (Path p : socketFiles) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }
}
