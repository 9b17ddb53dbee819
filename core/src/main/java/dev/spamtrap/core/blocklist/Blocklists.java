package dev.spamtrap.core.blocklist;

import dev.spamtrap.core.net.IpAddresses;
import dev.spamtrap.core.offender.ActiveListing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The node's loaded lists ({@code lists} in spamtrap.properties): OpenBSD spamd's other lists (nixspam, uatraps ...)
 * beside the node's own offenders. At connect, a client with no listing of its own that is on a list is answered as a
 * listing of class {@code list:<name>} with the list's refusal text; the allowlist and the exemptions of
 * OffenderConnectHandler come first, as for any listing. A list hit is never stored, never sent to the firewall agent
 * and never exported: it is someone else's list, and it goes when a load of the list no longer has the address.
 *
 * <p>Loads run on one daemon thread of their own ({@code spamtrap-lists}), never on an SMTP event loop; lookups read
 * one volatile reference per list.
 */
public final class Blocklists implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(Blocklists.class);
    public static final Blocklists NONE = new Blocklists(List.of(), Clock.systemUTC());

    private final List<Blocklist> lists;
    private final Clock clock;
    private final BlocklistReloader reloader;
    private volatile ScheduledExecutorService thread;

    Blocklists(List<BlocklistSettings> settings, Clock clock) {
        List<Blocklist> l = new ArrayList<>();
        for (BlocklistSettings s : settings) {
            l.add(new Blocklist(s));
        }
        this.lists = Collections.unmodifiableList(l);
        this.clock = clock;
        this.reloader = new BlocklistReloader(lists, clock);
    }

    /** The lists of {@code settings}, loading in the background from now on (no thread when there is none). */
    public static Blocklists start(List<BlocklistSettings> settings, Clock clock) {
        if (settings.isEmpty()) {
            return NONE;
        }
        Blocklists b = new Blocklists(settings, clock);
        ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread th = new Thread(r, "spamtrap-lists");
            th.setDaemon(true);
            th.setPriority(Thread.NORM_PRIORITY - 1);
            return th;
        });
        b.thread = t;
        t.scheduleWithFixedDelay(b::runDueSafely, 0, 1, TimeUnit.SECONDS);
        return b;
    }

    /** The lists without a thread: a test drives {@link #reloader()} itself. */
    static Blocklists manual(List<BlocklistSettings> settings, Clock clock) {
        return new Blocklists(settings, clock);
    }

    private void runDueSafely() {
        try {
            reloader.runDue();
        } catch (RuntimeException | OutOfMemoryError e) {
            LOGGER.error("Lists not reloaded", e);
        }
    }

    /**
     * The listing to act on at connect: the node's own active listing ({@code own}) when there is one that is acted on;
     * otherwise the first list, in the order of {@code lists}, that holds the client (its cause observed when the list
     * only observes); otherwise {@code own} (empty, or an observed listing). Lock-free.
     */
    public Optional<ActiveListing> over(Optional<ActiveListing> own, InetAddress client) {
        if (lists.isEmpty() || (own.isPresent() && !own.get().cause().isObserved())) {
            return own;
        }
        Blocklist observedHit = null;
        for (Blocklist l : lists) {
            if (l.contains(client)) {
                if (!l.cause().isObserved()) {
                    return Optional.of(listing(l, client));
                }
                if (observedHit == null) {
                    observedHit = l;
                }
            }
        }
        if (own.isPresent() || observedHit == null) {
            return own;
        }
        return Optional.of(listing(observedHit, client));
    }

    /** The first list that holds {@code client} (whatever its action). */
    public Optional<Blocklist> holding(InetAddress client) {
        for (Blocklist l : lists) {
            if (l.contains(client)) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    /**
     * A list hit as a listing: keyed by the client's own address, and listed until the list's next scheduled load (a
     * load that no longer has the address ends it).
     */
    private ActiveListing listing(Blocklist l, InetAddress client) {
        Instant now = clock.instant();
        Instant until = l.loaded().at().map(at -> at.plus(l.settings().refresh())).filter(now::isBefore)
            .orElse(now.plus(l.settings().refresh()));
        return new ActiveListing(IpAddresses.canonical(client), null, until, l.cause());
    }

    public List<Blocklist> all() {
        return lists;
    }

    public Optional<Blocklist> named(String name) {
        for (Blocklist l : lists) {
            if (l.name().equals(name)) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    public boolean isEmpty() {
        return lists.isEmpty();
    }

    BlocklistReloader reloader() {
        return reloader;
    }

    /**
     * Loads {@code list} now on the list thread (an administrator's request); returns at once. False when the node has no
     * list thread.
     */
    public boolean reloadSoon(Blocklist list) {
        ScheduledExecutorService t = thread;
        if (t == null || t.isShutdown()) {
            return false;
        }
        t.execute(() -> {
            try {
                reloader.reloadNow(list);
            } catch (RuntimeException | OutOfMemoryError e) {
                LOGGER.error("List {} not reloaded", list.name(), e);
            }
        });
        return true;
    }

    @Override
    public void close() {
        ScheduledExecutorService t = thread;
        if (t != null) {
            t.shutdownNow();
        }
    }
}
