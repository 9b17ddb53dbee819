package dev.spamtrap.agent.apply;

import dev.spamtrap.agent.net.Prefix;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The agent's view of its sets, saved to a file so that a restart knows at once what the kernel holds instead of
 * listing it (nft needs minutes for a million elements). Binary: a magic and format version, the scope (which
 * firewall the view is of: a file from another table is not taken), when it was saved, the entry count, each entry
 * (prefix length, address length, address bytes, expiry in epoch milliseconds), and a CRC-32 of everything before it.
 * Written whole to a temporary file beside it, flushed to disk, then renamed over the old one: a crash leaves the old
 * file or the new one, never half of one. Any file that does not check out is refused whole, with the reason.
 */
public final class ViewFile {
    private static final long MAGIC = 0x5354_4147_5649_4557L; // "STAGVIEW"
    private static final int VERSION = 1;
    /** More entries than any configuration allows (reconcile.maxEntries is at most a few million): a corrupt count. */
    private static final int MAX_ENTRIES = 50_000_000;

    /** When a file was saved and how many entries it held. */
    public static final class Saved {
        public final long savedAtMillis;
        public final int entries;

        Saved(long savedAtMillis, int entries) {
            this.savedAtMillis = savedAtMillis;
            this.entries = entries;
        }
    }

    /** Takes the entries of a file as they are read (a million: no map in between, no object per IPv4 address). */
    public interface Sink {
        /** A single IPv4 address, as an int. */
        void host4(int address, long expiresAtMillis);

        /** Any other prefix. */
        void prefix(Prefix prefix, long expiresAtMillis);
    }

    private final Path path;
    private final String scope;

    /**
     * @param scope names the firewall the view is of (backend and table); a file saved under another scope is refused
     */
    public ViewFile(Path path, String scope) {
        this.path = path;
        this.scope = scope;
    }

    public Path path() {
        return path;
    }

    /** Writes the view atomically (temporary file, fsync, rename). */
    void write(BlockTable view, long nowMillis) throws IOException {
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        CRC32 crc = new CRC32();
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            DataOutputStream out = new DataOutputStream(new CheckedOutputStream(new BufferedOutputStream(nonClosing(Channels.newOutputStream(ch)), 1 << 16), crc));
            out.writeLong(MAGIC);
            out.writeInt(VERSION);
            out.writeUTF(scope);
            out.writeLong(nowMillis);
            out.writeInt(view.size());
            IOException[] failed = new IOException[1];
            view.forEach(c -> {
                if (failed[0] != null) {
                    return;
                }
                try {
                    Prefix p = c.prefix();
                    out.writeByte(p.length());
                    if (p.isIpv6()) {
                        out.writeByte(16);
                        out.write(p.networkBytes());
                    } else {
                        out.writeByte(4);
                        out.writeInt(p.ipv4Bits());
                    }
                    out.writeLong(c.expiresAt);
                } catch (IOException e) {
                    failed[0] = e;
                }
            });
            if (failed[0] != null) {
                throw failed[0];
            }
            out.flush();
            long sum = crc.getValue();
            out.writeLong(sum);
            out.flush();
            ch.force(true);
        }
        try {
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel dir = FileChannel.open(path.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true); // the rename itself on disk
        } catch (IOException | UnsupportedOperationException ignored) {
            // not every file system lets a directory be synced; the rename is still atomic
        }
    }

    /**
     * Reads the saved view into {@code sink}; empty when there is no file. The sink may have taken entries before a
     * problem is found: discard them when this throws.
     *
     * @throws IOException naming what is wrong when the file exists but is not a whole, intact view of this scope
     */
    public Optional<Saved> read(Sink sink) throws IOException {
        InputStream raw;
        try {
            raw = Files.newInputStream(path);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        CRC32 crc = new CRC32();
        try (raw; DataInputStream in = new DataInputStream(new CheckedInputStream(new BufferedInputStream(raw, 1 << 16), crc))) {
            if (in.readLong() != MAGIC) {
                throw new IOException("not a saved view of the agent (wrong magic)");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new IOException("format version " + version + ", this agent reads version " + VERSION);
            }
            String savedScope = in.readUTF();
            if (!savedScope.equals(scope)) {
                throw new IOException("saved for '" + savedScope + "', this agent drives '" + scope + "'");
            }
            long savedAt = in.readLong();
            int count = in.readInt();
            if (count < 0 || count > MAX_ENTRIES) {
                throw new IOException("entry count " + count + " out of range");
            }
            byte[] v6 = new byte[16];
            for (int i = 0; i < count; i++) {
                int length = in.readUnsignedByte();
                int addressLength = in.readUnsignedByte();
                if (addressLength != 4 && addressLength != 16 || length > addressLength * 8) {
                    throw new IOException("entry " + i + " is malformed (address of " + addressLength + " bytes, /" + length + ")");
                }
                if (addressLength == 4) {
                    int address = in.readInt();
                    long expiresAt = in.readLong();
                    if (length == 32 && address != 0) {
                        sink.host4(address, expiresAt);
                    } else {
                        sink.prefix(Prefix.of(new byte[] {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address}, length),
                            expiresAt);
                    }
                } else {
                    in.readFully(v6);
                    sink.prefix(Prefix.of(v6, length), in.readLong());
                }
            }
            long expected = crc.getValue();
            long stored = in.readLong();
            if (stored != expected) {
                throw new IOException("checksum mismatch (stored " + Long.toHexString(stored) + ", computed " + Long.toHexString(expected) + ")");
            }
            if (in.read() >= 0) {
                throw new IOException("data after the checksum");
            }
            return Optional.of(new Saved(savedAt, count));
        } catch (EOFException e) {
            throw new IOException("truncated", e);
        }
    }

    private static OutputStream nonClosing(OutputStream out) {
        return new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
