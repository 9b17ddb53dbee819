package dev.spamtrap.mailets;

import org.apache.james.mailrepository.api.MailKey;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.util.DurationParser;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMailet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.inject.Inject;
import javax.mail.MessagingException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Removes quarantined messages older than {@code maxAge} from the quarantine repository, every
 * {@code interval}, on its own thread. It never touches the mail passing through it; list it once, anywhere
 * in the root processor (it only needs the mailet container's lifecycle):
 *
 * <pre>{@code
 * <mailet match="All" class="dev.spamtrap.mailets.QuarantineRetention">
 *   <repositoryPath>memory://var/mail/spamtrap/</repositoryPath>   <!-- the quarantine ToRepository's path -->
 *   <maxAge>30d</maxAge>                                            <!-- default 30d -->
 *   <interval>1h</interval>                                         <!-- default 1h -->
 * </mailet>
 * }</pre>
 * A message's age is measured from when it was stored (its last-updated time).
 */
public class QuarantineRetention extends GenericMailet {
    private static final Logger LOGGER = LoggerFactory.getLogger(QuarantineRetention.class);
    /** The repository of the quarantine in the sample mailetcontainer.xml. */
    static final String DEFAULT_REPOSITORY = "memory://var/mail/spamtrap/";

    private final MailRepositoryStore repositories;
    private final Clock clock;
    private MailRepository repository;
    private String path;
    private Duration maxAge;
    private ScheduledExecutorService scheduler;

    @Inject
    public QuarantineRetention(MailRepositoryStore repositories) {
        this(repositories, Clock.systemUTC());
    }

    QuarantineRetention(MailRepositoryStore repositories, Clock clock) {
        this.repositories = repositories;
        this.clock = clock;
    }

    @Override
    public void init() throws MessagingException {
        path = getInitParameter("repositoryPath", DEFAULT_REPOSITORY);
        maxAge = duration("maxAge", "30d");
        Duration interval = duration("interval", "1h");
        try {
            repository = repositories.select(MailRepositoryUrl.from(path));
        } catch (Exception e) {
            throw new MessagingException("mailetcontainer.xml: mailet " + getClass().getName() + ": parameter 'repositoryPath': cannot open '"
                + path + "': " + e.getMessage(), e);
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "spamtrap-quarantine-retention");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(this::pruneSafely, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        LOGGER.info("Quarantine {}: messages older than {} are removed every {}", path, maxAge, interval);
    }

    private Duration duration(String name, String dflt) throws MessagingException {
        String raw = getInitParameter(name, dflt).trim();
        try {
            Duration d = DurationParser.parse(raw);
            if (d.isZero() || d.isNegative()) {
                throw new NumberFormatException("not positive");
            }
            return d;
        } catch (RuntimeException e) {
            throw new MessagingException("mailetcontainer.xml: mailet " + getClass().getName() + ": parameter '" + name + "': '" + raw
                + "' is not a positive duration (e.g. 12h, 30d)");
        }
    }

    /** Removes what is older than maxAge; returns how many. */
    int prune() throws MessagingException {
        Instant cutoff = clock.instant().minus(maxAge);
        List<MailKey> old = new ArrayList<>();
        for (Iterator<MailKey> keys = repository.list(); keys.hasNext(); ) {
            MailKey key = keys.next();
            Mail mail = repository.retrieve(key);
            if (mail == null) {
                continue;
            }
            Date stored = mail.getLastUpdated();
            if (stored != null && stored.toInstant().isBefore(cutoff)) {
                old.add(key);
            }
        }
        if (!old.isEmpty()) {
            repository.remove(old);
            LOGGER.info("Quarantine {}: removed {} message(s) older than {}", path, old.size(), maxAge);
        }
        return old.size();
    }

    private void pruneSafely() {
        try {
            prune();
        } catch (Exception e) {
            LOGGER.error("Quarantine {}: pruning failed, will retry", path, e);
        }
    }

    @Override
    public void service(Mail mail) {
        // Nothing to do per message: pruning runs on its own schedule.
    }

    @Override
    public void destroy() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }

    @Override
    public String getMailetInfo() {
        return "Removes old messages from the spamtrap quarantine";
    }
}
