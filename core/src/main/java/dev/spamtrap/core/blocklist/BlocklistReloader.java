package dev.spamtrap.core.blocklist;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads each list when it is due: at start, then every {@code refresh}; after a failed load, again after
 * {@link #retryAfter} (the refresh, at most {@value #MAX_RETRY_MINUTES} minutes). A load streams the source through
 * {@link BlocklistParser} into new arrays on the caller's thread (the node's list thread, never an event loop), then
 * swaps the list's one reference; a failed fetch or a refused parse keeps the list in use. Driven by
 * {@link #runDue()}, which a scheduler calls every second and tests call after moving their clock.
 */
public final class BlocklistReloader {
    private static final Logger LOGGER = LoggerFactory.getLogger(BlocklistReloader.class);
    static final long MAX_RETRY_MINUTES = 5;

    private final List<Blocklist> lists;
    private final Clock clock;
    /** When each list is next due (only the reloader's thread touches it). */
    private final Map<Blocklist, Instant> due = new HashMap<>();

    BlocklistReloader(List<Blocklist> lists, Clock clock) {
        this.lists = lists;
        this.clock = clock;
        Instant now = clock.instant();
        for (Blocklist l : lists) {
            due.put(l, now);
        }
    }

    /** Loads every list that is due; returns how many were tried. */
    public synchronized int runDue() {
        int tried = 0;
        for (Blocklist l : lists) {
            Instant when = due.get(l);
            if (!clock.instant().isBefore(when)) {
                tried++;
                boolean ok = load(l, false);
                due.put(l, clock.instant().plus(ok ? l.settings().refresh() : retryAfter(l.settings().refresh())));
            }
        }
        return tried;
    }

    /** Loads {@code list} now, even if its source looks unchanged; the next scheduled load follows from now. */
    public synchronized boolean reloadNow(Blocklist list) {
        boolean ok = load(list, true);
        due.put(list, clock.instant().plus(ok ? list.settings().refresh() : retryAfter(list.settings().refresh())));
        return ok;
    }

    private static java.security.MessageDigest sha256() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static Duration retryAfter(Duration refresh) {
        Duration max = Duration.ofMinutes(MAX_RETRY_MINUTES);
        return refresh.compareTo(max) < 0 ? refresh : max;
    }

    /** One load; true when the list in use is now the source's current text (loaded or unchanged). */
    boolean load(Blocklist list, boolean force) {
        BlocklistSettings s = list.settings();
        Instant started = clock.instant();
        long t0 = System.nanoTime();
        Blocklist.Loaded before = list.loaded();
        try (BlocklistSource.Fetched fetched = s.source().fetch(force ? null : before.version())) {
            if (fetched == null) {
                list.unchanged(started);
                LOGGER.debug("List {} unchanged at {}", s.name(), s.source());
                return true;
            }
            java.security.MessageDigest digest = sha256();
            BlocklistParser.Result r = BlocklistParser.parse(new java.security.DigestInputStream(fetched.body(), digest), s.source().describe());
            long millis = (System.nanoTime() - t0) / 1_000_000;
            String sum = java.util.Base64.getEncoder().encodeToString(digest.digest());
            if (sum.equals(before.digest())) {
                // the same text again (a source without ETag / Last-Modified, a touched file): the list in use stays
                list.unchanged(started);
                LOGGER.debug("List {} read again from {}: the same text", s.name(), s.source());
                return true;
            }
            list.installed(new Blocklist.Loaded(r, started, fetched.version(), millis, sum),
                started);
            for (String p : r.problems()) {
                LOGGER.warn("List {}: line skipped: {}", s.name(), p);
            }
            if (r.badLines() > r.problems().size()) {
                LOGGER.warn("List {}: {} more bad lines skipped", s.name(), r.badLines() - r.problems().size());
            }
            LOGGER.info("List {} loaded from {}: {} entries ({} IPv4 and {} IPv6 ranges after merging, {} KiB), {} bad lines skipped, {} ms",
                s.name(), s.source(), r.entries(), r.ranges().ipv4Ranges(), r.ranges().ipv6Ranges(), r.ranges().bytes() / 1024, r.badLines(), millis);
            return true;
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            list.failed(started, why);
            LOGGER.error("List {} not loaded from {}, keeping the {} entries in use: {}", s.name(), s.source(), before.entries(), why);
            return false;
        } catch (OutOfMemoryError e) {
            // the new arrays are garbage now; the list in use is whole (it was never touched)
            list.failed(started, "out of memory while loading: the list needs more heap (-Xmx) than is free");
            LOGGER.error("List {} not loaded from {}: out of memory; keeping the {} entries in use", s.name(), s.source(), before.entries());
            return false;
        } catch (BlocklistParser.LoadRefused e) {
            list.failed(started, e.getMessage());
            LOGGER.error("List {} refused, keeping the {} entries in use: {}", s.name(), before.entries(), e.getMessage());
            return false;
        }
    }
}
