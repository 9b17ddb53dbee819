package dev.spamtrap.agent.server;

import dev.spamtrap.core.firewall.AgentEndpoint;
import dev.spamtrap.core.firewall.WireFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Listens on loopback TCP and/or a Unix socket and hands each received line to the {@link CommandProcessor}.
 * One thread per connection, at most {@code maxConnections}. A connection is "proven" once one of its commands
 * was applied (it holds the key: James's long-lived connection). Unproven connections must send within
 * {@code idleTimeout} or are closed; when the agent is full, or a peer holds {@code maxPerPeer} unproven
 * connections, the oldest unproven one is closed to make room, so idle connections can never lock James out.
 * Only when every slot is proven is a newcomer refused, with {@code BUSY} (which clients retry). A client may pipeline lines; replies come back
 * in order. A line longer than {@link WireFormat#MAX_LINE_BYTES} is refused and the connection closed
 * (there is no safe way to find the next message in it).
 */
public final class CommandServer implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(CommandServer.class);
    private static final long REPLY_TIMEOUT_SECONDS = 120;

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

    private void serve(Conn conn) {
        SocketChannel ch = conn.channel;
        String peer = conn.peer;
        int max = WireFormat.MAX_LINE_BYTES;
        byte[] buf = new byte[4 * max];
        int len = 0;
        List<CompletableFuture<String>> pending = new ArrayList<>();
        try {
            InputStream in = Channels.newInputStream(ch);
            OutputStream out = Channels.newOutputStream(ch);
            while (!closed) {
                int start = 0;
                boolean oversized = false;
                for (int i = 0; i < len; i++) {
                    if (buf[i] == '\n') {
                        int end = i > start && buf[i - 1] == '\r' ? i - 1 : i;
                        if (end - start > max) {
                            oversized = true;
                            break;
                        }
                        pending.add(processor.handle(new String(buf, start, end - start, StandardCharsets.ISO_8859_1), peer, conn.endpoint));
                        start = i + 1;
                    }
                }
                if (!oversized) {
                    System.arraycopy(buf, start, buf, 0, len - start);
                    len -= start;
                    oversized = len > max + 1;
                }
                if (writeReplies(out, pending)) {
                    conn.proven = true;
                }
                if (oversized) {
                    LOGGER.warn("REFUSED message from {} (oversized): longer than {} bytes; nothing applied, closing the connection", peer, max);
                    out.write(("ERR - message longer than " + max + " bytes\n").getBytes(StandardCharsets.US_ASCII));
                    lingerAndClose(ch, in);
                    return;
                }
                int n = in.read(buf, len, buf.length - len);
                if (n < 0) {
                    return;
                }
                len += n;
                conn.lastActive = System.nanoTime();
            }
        } catch (IOException e) {
            if (!closed) {
                LOGGER.debug("Connection from {} ended: {}", peer, e.getMessage());
            }
        }
    }

    /**
     * Half-closes, then discards what the client still sends (up to 64 KiB, at most 2 s) so that it reads the
     * refusal instead of a connection reset caused by unread data.
     */
    private void lingerAndClose(SocketChannel ch, InputStream in) throws IOException {
        ch.shutdownOutput();
        var closer = closers.schedule(() -> {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }, 2, TimeUnit.SECONDS);
        byte[] sink = new byte[4096];
        int total = 0;
        try {
            int n;
            while (total < 65536 && (n = in.read(sink)) >= 0) {
                total += n;
            }
        } finally {
            closer.cancel(false);
        }
    }

    /** Writes the replies in order; true when one of them was OK (the sender holds the key). */
    private static boolean writeReplies(OutputStream out, List<CompletableFuture<String>> pending) throws IOException {
        if (pending.isEmpty()) {
            return false;
        }
        boolean ok = false;
        StringBuilder b = new StringBuilder();
        for (CompletableFuture<String> f : pending) {
            String reply;
            try {
                reply = f.get(REPLY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                reply = "BUSY - agent busy, no result in time";
            } catch (Exception e) {
                reply = "ERR - internal error: " + e;
            }
            ok |= reply.startsWith("OK ");
            b.append(reply.replace('\n', ' ')).append('\n');
        }
        pending.clear();
        out.write(b.toString().getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return ok;
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
