package dev.spamtrap.core.blocklist;

import dev.spamtrap.core.offender.Cause;

import java.net.InetAddress;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One loaded list at run time: its settings, the ranges in use (one volatile reference, swapped whole by the
 * reloader) and what its loads did. Lookups are lock-free.
 */
public final class Blocklist {
    private final BlocklistSettings settings;
    private final Cause cause;
    private volatile Loaded loaded = Loaded.NONE;
    private volatile Instant lastAttempt;
    private volatile String lastError;
    private final AtomicLong loadFailures = new AtomicLong();

    /** The ranges in use and where they came from. Immutable. */
    public static final class Loaded {
        static final Loaded NONE = new Loaded(new BlocklistParser.Result(AddressRanges.EMPTY, 0, 0, List.of()), null, null, 0, null);

        private final BlocklistParser.Result read;
        private final Instant at;
        private final BlocklistSource.Version version;
        private final long millis;
        private final String digest;

        Loaded(BlocklistParser.Result read, Instant at, BlocklistSource.Version version, long millis, String digest) {
            this.read = read;
            this.at = at;
            this.version = version;
            this.millis = millis;
            this.digest = digest;
        }

        /** The ranges in use, and the entry lines, skipped lines and problems of the load that read them. */
        public BlocklistParser.Result read() {
            return read;
        }

        public AddressRanges ranges() {
            return read.ranges();
        }

        public int entries() {
            return read.entries();
        }

        /** When the list in use was read; empty before the first good load. */
        public Optional<Instant> at() {
            return Optional.ofNullable(at);
        }

        BlocklistSource.Version version() {
            return version;
        }

        /** SHA-256 of the text read (Base64); null before the first load. */
        String digest() {
            return digest;
        }

        /** How long reading and building it took. */
        public long millis() {
            return millis;
        }
    }

    Blocklist(BlocklistSettings settings) {
        this.settings = settings;
        this.cause = Cause.list(settings.name());
    }

    public String name() {
        return settings.name();
    }

    public BlocklistSettings settings() {
        return settings;
    }

    /** {@code list:<name>}, observed when the list's action is observe. */
    public Cause cause() {
        return settings.action() == BlocklistSettings.Action.OBSERVE ? cause.observed() : cause;
    }

    /** Whether the client is on the list in use (lock-free, no allocation beyond the address's bytes). */
    public boolean contains(InetAddress client) {
        return loaded.ranges().contains(client);
    }

    public Loaded loaded() {
        return loaded;
    }

    /** When a load was last tried; empty before the first. */
    public Optional<Instant> lastAttempt() {
        return Optional.ofNullable(lastAttempt);
    }

    /** Why the last load failed; empty when it succeeded (or found the list unchanged). */
    public Optional<String> lastError() {
        return Optional.ofNullable(lastError);
    }

    /** Loads that failed since start (the list in use was kept each time). */
    public long loadFailures() {
        return loadFailures.get();
    }

    void installed(Loaded fresh, Instant at) {
        loaded = fresh;
        lastAttempt = at;
        lastError = null;
    }

    void unchanged(Instant at) {
        lastAttempt = at;
        lastError = null;
    }

    void failed(Instant at, String error) {
        lastAttempt = at;
        lastError = error;
        loadFailures.incrementAndGet();
    }
}
