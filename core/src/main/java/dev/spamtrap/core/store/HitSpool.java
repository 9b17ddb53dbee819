package dev.spamtrap.core.store;

import dev.spamtrap.core.offender.TrapHit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Hits on disk until Cassandra has them. One append-only file ({@code hits.spool}, one line per hit) and a
 * checkpoint ({@code hits.spool.done}: the byte offset up to which the store confirmed every hit).
 * <ul>
 * <li>{@link #append} writes a whole group of hits and fsyncs once (group commit): a hit is durable when it returns.</li>
 * <li>{@link #read} hands out the next batch after the checkpoint; {@link #confirm} moves the checkpoint
 *     (fsynced) once the whole batch is stored. When everything is confirmed the file is emptied: it is
 *     never rewritten per hit. A crash between store write and checkpoint replays a batch, which the
 *     store's idempotent recording absorbs.</li>
 * <li>Bounded by {@code maxBytes}: when full, further hits are not spooled (each refused hit is counted
 *     and logged); the node still refuses them locally, they just never reach Cassandra.</li>
 * <li>{@code spool.lock} is locked for the life of the spool: a second James process on the same folder
 *     fails at start instead of silently sharing it.</li>
 * </ul>
 * Thread-safe (methods are synchronised; each call is short).
 */
public final class HitSpool implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(HitSpool.class);

    private final Path file;
    private final Path checkpoint;
    private final long maxBytes;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final FileChannel channel;
    private long confirmed;
    private long pendingHits;
    private long refused;

    /** A spool of at most {@code maxBytes}; throws {@link SpoolInUseException} if another process holds it. */
    public HitSpool(Path directory, long maxBytes) {
        this.file = directory.resolve("hits.spool");
        this.checkpoint = directory.resolve("hits.spool.done");
        this.maxBytes = maxBytes;
        try {
            Files.createDirectories(directory);
            lockChannel = FileChannel.open(directory.resolve("spool.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null;
            }
            if (l == null) {
                lockChannel.close();
                throw new SpoolInUseException(directory + ": the spool is in use by another James process (spool.lock is locked);"
                    + " give each James node its own spool.directory");
            }
            lock = l;
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            confirmed = readCheckpoint();
            cutTornTail();
            if (confirmed > channel.size()) {
                confirmed = channel.size();
            }
            pendingHits = countLines(confirmed);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open hit spool in " + directory + ": " + e.getMessage(), e);
        }
    }

    /** Thrown when another process holds the spool. */
    public static final class SpoolInUseException extends IllegalStateException {
        public SpoolInUseException(String message) {
            super(message);
        }
    }

    public Path file() {
        return file;
    }

    /** Appends and fsyncs the hits; returns how many fit (the rest were refused: spool full). */
    public synchronized int append(List<TrapHit> hits) {
        StringBuilder sb = new StringBuilder();
        int accepted = 0;
        try {
            long size = channel.size();
            for (TrapHit hit : hits) {
                String line = encode(hit) + "\n";
                if (size + sb.length() + line.length() > maxBytes) {
                    refused++;
                    LOGGER.error("Spool {} is full ({} bytes): hit {} is refused locally but will not reach Cassandra ({} refused so far)",
                        file, maxBytes, hit.id(), refused);
                    continue;
                }
                sb.append(line);
                accepted++;
            }
            if (accepted > 0) {
                ByteBuffer buf = StandardCharsets.UTF_8.encode(sb.toString());
                long at = size;
                while (buf.hasRemaining()) {
                    at += channel.write(buf, at);
                }
                channel.force(false);
                pendingHits += accepted;
            }
        } catch (IOException e) {
            LOGGER.error("Cannot spool {} trap hit(s) to {}: {}", hits.size(), file, e.getMessage());
            return 0;
        }
        return accepted;
    }

    /** A batch of spooled hits and the offset that confirms it. */
    public static final class Batch {
        public final List<TrapHit> hits;
        public final long end;

        Batch(List<TrapHit> hits, long end) {
            this.hits = hits;
            this.end = end;
        }
    }

    /** Up to {@code max} unconfirmed hits, oldest first. Unreadable lines are skipped and logged. */
    public synchronized Batch read(int max) {
        return readFrom(confirmed, max);
    }

    /**
     * Up to {@code max} hits from byte offset {@code from} on (never before the checkpoint): lets a reader keep several
     * batches in flight and confirm them in order.
     */
    public synchronized Batch read(long from, int max) {
        return readFrom(Math.max(from, confirmed), max);
    }

    /** The byte offset up to which every hit is confirmed (0 once the file was emptied). */
    public synchronized long checkpoint() {
        return confirmed;
    }

    /** Every unconfirmed hit (at start, to load them into the view). */
    public synchronized List<TrapHit> readAll() {
        return readFrom(confirmed, Integer.MAX_VALUE).hits;
    }

    private Batch readFrom(long from, int max) {
        List<TrapHit> hits = new ArrayList<>();
        long pos = from;
        try {
            long size = channel.size();
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            StringBuilder line = new StringBuilder();
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            long lineStart = pos;
            long read = pos;
            outer:
            while (read < size && hits.size() < max) {
                buf.clear();
                int n = channel.read(buf, read);
                if (n <= 0) {
                    break;
                }
                buf.flip();
                for (int i = 0; i < n; i++) {
                    byte b = buf.get(i);
                    if (b == '\n') {
                        String text = bytes.toString(StandardCharsets.UTF_8);
                        bytes.reset();
                        long next = read + i + 1;
                        if (!text.isBlank()) {
                            try {
                                hits.add(decode(text));
                            } catch (RuntimeException e) {
                                LOGGER.error("{} at byte {}: unreadable spooled hit skipped: {}", file, lineStart, e.getMessage());
                            }
                        }
                        lineStart = next;
                        pos = next;
                        if (hits.size() >= max) {
                            break outer;
                        }
                    } else {
                        bytes.write(b);
                    }
                }
                read += n;
            }
            line.setLength(0);
        } catch (IOException e) {
            LOGGER.error("Cannot read spooled hits from {}: {}", file, e.getMessage());
        }
        return new Batch(hits, pos);
    }

    /**
     * The store has every hit before {@code end}: move the checkpoint; empty the file when all is confirmed.
     * Returns true when the file was emptied (offsets start again at 0).
     *
     * <p>A moved checkpoint is not fsynced: if a crash loses it, the older one replays hits the store already has,
     * which recording absorbs (idempotent). Emptying the file is: the file is cut and synced, then the checkpoint
     * 0 is synced, before any later append (both under this lock), so a stale checkpoint never skips a new hit.
     */
    public synchronized boolean confirm(long end, int hits) {
        try {
            confirmed = Math.max(confirmed, end);
            pendingHits = Math.max(0, pendingHits - hits);
            boolean emptied = confirmed >= channel.size();
            if (emptied) {
                channel.truncate(0);
                channel.force(true);
                confirmed = 0;
                pendingHits = 0;
            }
            writeCheckpoint(confirmed, emptied);
            return emptied;
        } catch (IOException e) {
            LOGGER.error("Cannot update spool checkpoint {}: {}", checkpoint, e.getMessage());
            return false;
        }
    }

    /** Hits on disk not yet confirmed by the store. */
    public synchronized long depth() {
        return pendingHits;
    }

    /** Hits refused because the spool was full, since start. */
    public synchronized long refused() {
        return refused;
    }

    private long readCheckpoint() throws IOException {
        if (!Files.exists(checkpoint)) {
            return 0;
        }
        String s = Files.readString(checkpoint, StandardCharsets.UTF_8).trim();
        try {
            return s.isEmpty() ? 0 : Long.parseLong(s);
        } catch (NumberFormatException e) {
            LOGGER.error("{}: unreadable checkpoint '{}'; replaying the whole spool (recording is idempotent)", checkpoint, s);
            return 0;
        }
    }

    /** Written in place, fixed width (one small write, never an empty file in between). */
    private void writeCheckpoint(long offset, boolean sync) throws IOException {
        try (FileChannel c = FileChannel.open(checkpoint, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer buf = StandardCharsets.UTF_8.encode(String.format("%019d", offset));
            while (buf.hasRemaining()) {
                c.write(buf, buf.position());
            }
            c.truncate(19);
            if (sync) {
                c.force(false);
            }
        }
    }

    /** A crash mid-append can leave half a line: cut it (its hit was never acknowledged). */
    private void cutTornTail() throws IOException {
        long size = channel.size();
        if (size == 0) {
            return;
        }
        ByteBuffer one = ByteBuffer.allocate(1);
        long end = size;
        while (end > 0) {
            one.clear();
            channel.read(one, end - 1);
            if (one.get(0) == '\n') {
                break;
            }
            end--;
        }
        if (end < size) {
            LOGGER.warn("{}: cut {} bytes of a torn last line", file, size - end);
            channel.truncate(end);
        }
    }

    private long countLines(long from) throws IOException {
        return readFrom(from, Integer.MAX_VALUE).hits.size();
    }

    public static String encode(TrapHit hit) {
        return String.join("\t", enc(hit.key()), hit.at().toString(), enc(hit.trap()), enc(hit.helo()), enc(hit.mailFrom()), enc(hit.node()),
            enc(hit.id()), enc(hit.client()), Integer.toString(hit.generation()));
    }

    public static TrapHit decode(String line) {
        String[] f = line.split("\t", -1);
        if (f.length == 6) {
            return new TrapHit(dec(f[0]), Instant.parse(f[1]), dec(f[2]), dec(f[3]), dec(f[4]), dec(f[5]));
        }
        if (f.length != 8 && f.length != 9) {
            throw new IllegalArgumentException("expected 9 fields, got " + f.length);
        }
        TrapHit hit = new TrapHit(dec(f[6]), dec(f[0]), dec(f[7]), Instant.parse(f[1]), dec(f[2]), dec(f[3]), dec(f[4]), dec(f[5]));
        return f.length == 9 ? hit.withGeneration(Integer.parseInt(f[8])) : hit;
    }

    /** URL-encoded; a string URLEncoder would leave as it is (the usual address, trap, HELO) is returned without a copy. */
    static String enc(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '*' || c == '_')) {
                return URLEncoder.encode(s, StandardCharsets.UTF_8);
            }
        }
        return s;
    }

    /** URL-decoded; a field without escapes ('%' or '+') is returned as it is. */
    static String dec(String s) {
        return s.indexOf('%') < 0 && s.indexOf('+') < 0 ? s : URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void close() {
        try {
            channel.close();
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            LOGGER.warn("Closing spool {}: {}", file, e.getMessage());
        }
    }
}
