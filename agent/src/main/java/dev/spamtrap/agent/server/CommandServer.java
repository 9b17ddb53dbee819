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
 * One thread per connection, at most {@code maxConnections}. A client may pipeline lines; replies come back
 * in order. A line longer than {@link WireFormat#MAX_LINE_BYTES} is refused and the connection closed
 * (there is no safe way to find the next message in it).
 */
public final class CommandServer implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(CommandServer.class);
    private static final long REPLY_TIMEOUT_SECONDS = 120;

    private final List<AgentEndpoint> endpoints;
    private final CommandProcessor processor;
    private final String unixPermissions;
    private final Semaphore slots;
    private final ExecutorService connections;
    private final List<ServerSocketChannel> servers = new CopyOnWriteArrayList<>();
    private final List<SocketChannel> open = new CopyOnWriteArrayList<>();
    private final List<Path> socketFiles = new ArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();
    private final java.util.concurrent.ScheduledExecutorService closers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "agent-linger");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;

    public CommandServer(List<AgentEndpoint> endpoints, CommandProcessor processor, int maxConnections, String unixPermissions) {
        this.endpoints = List.copyOf(endpoints);
        this.processor = processor;
        this.unixPermissions = unixPermissions;
        this.slots = new Semaphore(maxConnections);
        this.connections = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "agent-conn-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Binds every endpoint; returns the bound addresses (a TCP port 0 becomes the real port). */
    public List<SocketAddress> start() throws IOException {
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
            Thread t = new Thread(() -> acceptLoop(server), "agent-accept-" + describe(local));
            t.setDaemon(true);
            t.start();
        }
        return bound;
    }

    private static String describe(SocketAddress a) {
        return a instanceof UnixDomainSocketAddress ? "unix:" + ((UnixDomainSocketAddress) a).getPath() : "tcp:" + a;
    }

    private void acceptLoop(ServerSocketChannel server) {
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
            if (!slots.tryAcquire()) {
                LOGGER.warn("REFUSED connection from {}: too many connections", peer);
                try (ch) {
                    Channels.newOutputStream(ch).write("ERR - too many connections\n".getBytes(StandardCharsets.US_ASCII));
                } catch (IOException ignored) {
                    // closing anyway
                }
                continue;
            }
            open.add(ch);
            connections.execute(() -> {
                try {
                    serve(ch, peer);
                } finally {
                    open.remove(ch);
                    slots.release();
                    try {
                        ch.close();
                    } catch (IOException ignored) {
                        // closing anyway
                    }
                }
            });
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

    private void serve(SocketChannel ch, String peer) {
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
                        pending.add(processor.handle(new String(buf, start, end - start, StandardCharsets.ISO_8859_1), peer));
                        start = i + 1;
                    }
                }
                if (!oversized) {
                    System.arraycopy(buf, start, buf, 0, len - start);
                    len -= start;
                    oversized = len > max + 1;
                }
                writeReplies(out, pending);
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

    private static void writeReplies(OutputStream out, List<CompletableFuture<String>> pending) throws IOException {
        if (pending.isEmpty()) {
            return;
        }
        StringBuilder b = new StringBuilder();
        for (CompletableFuture<String> f : pending) {
            String reply;
            try {
                reply = f.get(REPLY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                reply = "ERR - agent busy, no result in time";
            } catch (Exception e) {
                reply = "ERR - internal error: " + e;
            }
            b.append(reply.replace('\n', ' ')).append('\n');
        }
        pending.clear();
        out.write(b.toString().getBytes(StandardCharsets.US_ASCII));
        out.flush();
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
        for (SocketChannel c : open) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
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
