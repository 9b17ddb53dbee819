package dev.spamtrap.mailets;

import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.mailet.Mail;
import org.apache.mailet.base.GenericMailet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.inject.Inject;
import javax.mail.MessagingException;

/**
 * Stores a trapped message in a quarantine mail repository and ends its processing: it is delivered to
 * no recipient and never bounced (a bounce would tell the sender the address is special). List it with
 * James's own WebAdmin route {@code GET /mailRepositories/<encoded path>/mails}.
 *
 * <pre>{@code
 * <mailet match="dev.spamtrap.mailets.IsTrapped" class="dev.spamtrap.mailets.Quarantine">
 *   <repositoryPath>memory://var/mail/spamtrap/</repositoryPath>   <!-- default -->
 * </mailet>
 * }</pre>
 */
public class Quarantine extends GenericMailet {
    private static final Logger LOGGER = LoggerFactory.getLogger(Quarantine.class);
    static final String DEFAULT_REPOSITORY = "memory://var/mail/spamtrap/";

    private final MailRepositoryStore repositories;
    private MailRepository repository;
    private MailRepositoryUrl url;

    @Inject
    public Quarantine(MailRepositoryStore repositories) {
        this.repositories = repositories;
    }

    @Override
    public void init() throws MessagingException {
        String path = getInitParameter("repositoryPath", DEFAULT_REPOSITORY);
        try {
            url = MailRepositoryUrl.from(path);
        } catch (RuntimeException e) {
            throw new MessagingException("mailetcontainer.xml: mailet " + getClass().getName() + ": parameter 'repositoryPath': '" + path
                + "' is not a mail repository URL (e.g. " + DEFAULT_REPOSITORY + "): " + e.getMessage(), e);
        }
        try {
            repository = repositories.select(url);
        } catch (Exception e) {
            throw new MessagingException("mailetcontainer.xml: mailet " + getClass().getName() + ": parameter 'repositoryPath': cannot open '"
                + path + "': " + e.getMessage(), e);
        }
    }

    @Override
    public void service(Mail mail) throws MessagingException {
        repository.store(mail);
        LOGGER.info("Quarantined trapped message {} from {} (remote {}) in {}", mail.getName(),
            mail.getMaybeSender().asString(), mail.getRemoteAddr(), url.asString());
        mail.setState(Mail.GHOST);
    }

    @Override
    public String getMailetInfo() {
        return "Stores trapped messages in a quarantine repository";
    }
}
