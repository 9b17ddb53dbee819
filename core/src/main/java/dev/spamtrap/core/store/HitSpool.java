package dev.spamtrap.core.store;

import dev.spamtrap.core.offender.TrapHit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Hits the store could not take yet, kept on disk (one line each) so that neither a Cassandra outage
 * nor a James restart loses them; they are replayed in order once the store is back.
 * Not thread-safe: only the spamtrap scheduler thread touches it.
 */
public final class HitSpool {
    private static final Logger LOGGER = LoggerFactory.getLogger(HitSpool.class);
    private final Path file;

    public HitSpool(Path directory) {
        this.file = directory.resolve("pending-hits.log");
    }

    public Path file() {
        return file;
    }

    public void append(TrapHit hit) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, encode(hit) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            LOGGER.error("Cannot spool trap hit {} to {}: {}", hit, file, e.getMessage());
        }
    }

    public List<TrapHit> readAll() {
        List<TrapHit> hits = new ArrayList<>();
        if (!Files.exists(file)) {
            return hits;
        }
        try {
            int n = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    hits.add(decode(line));
                } catch (RuntimeException e) {
                    LOGGER.error("{}:{}: unreadable spooled hit skipped: {}", file, n, e.getMessage());
                }
            }
        } catch (IOException e) {
            LOGGER.error("Cannot read spooled hits from {}: {}", file, e.getMessage());
        }
        return hits;
    }

    /** Rewrites the spool with what is still pending (atomically, so a crash keeps either version). */
    public void replaceWith(List<TrapHit> remaining) {
        try {
            if (remaining.isEmpty()) {
                Files.deleteIfExists(file);
                return;
            }
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            StringBuilder sb = new StringBuilder();
            for (TrapHit hit : remaining) {
                sb.append(encode(hit)).append('\n');
            }
            Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOGGER.error("Cannot rewrite spool {}: {}", file, e.getMessage());
        }
    }

    static String encode(TrapHit hit) {
        return String.join("\t", enc(hit.ip()), hit.at().toString(), enc(hit.trap()), enc(hit.helo()), enc(hit.mailFrom()), enc(hit.node()));
    }

    static TrapHit decode(String line) {
        String[] f = line.split("\t", -1);
        if (f.length != 6) {
            throw new IllegalArgumentException("expected 6 fields, got " + f.length);
        }
        return new TrapHit(dec(f[0]), Instant.parse(f[1]), dec(f[2]), dec(f[3]), dec(f[4]), dec(f[5]));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String dec(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
