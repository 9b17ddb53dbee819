package dev.spamtrap.mailets;

import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.memory.MemoryMailRepository;
import org.apache.mailet.base.test.FakeMail;
import org.apache.mailet.base.test.FakeMailetConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.mail.MessagingException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QuarantineRetentionTest {
    private static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
    private final MemoryMailRepository repository = new MemoryMailRepository();
    private QuarantineRetention retention;

    private static MailRepositoryStore storeOf(MailRepository repository) {
        return (MailRepositoryStore) Proxy.newProxyInstance(QuarantineRetentionTest.class.getClassLoader(), new Class<?>[] {MailRepositoryStore.class},
            (proxy, method, args) -> {
                if (method.getName().equals("select")) {
                    return repository;
                }
                throw new UnsupportedOperationException(method.getName());
            });
    }

    private QuarantineRetention start(String maxAge) throws MessagingException {
        retention = new QuarantineRetention(storeOf(repository), Clock.fixed(NOW, ZoneOffset.UTC));
        retention.init(FakeMailetConfig.builder().mailetName("retention")
            .setProperty("repositoryPath", "memory://var/mail/spamtrap/").setProperty("maxAge", maxAge).setProperty("interval", "1d").build());
        return retention;
    }

    @AfterEach
    void stop() {
        if (retention != null) {
            retention.destroy();
        }
    }

    private void stored(String name, Duration age) throws MessagingException {
        repository.store(FakeMail.builder().name(name).lastUpdated(Date.from(NOW.minus(age))).build());
    }

    @Test
    void removesOnlyMessagesOlderThanMaxAge() throws Exception {
        stored("old", Duration.ofDays(31));
        stored("recent", Duration.ofDays(2));
        QuarantineRetention r = start("30d");
        r.prune();
        List<String> left = new ArrayList<>();
        repository.list().forEachRemaining(k -> left.add(k.asString()));
        assertThat(left).containsExactly("recent");
        stored("older", Duration.ofDays(40));
        assertThat(r.prune()).isEqualTo(1);
        assertThat(repository.size()).isEqualTo(1);
    }

    @Test
    void badMaxAgeNamesTheParameter() {
        assertThatThrownBy(() -> start("soon")).isInstanceOf(MessagingException.class)
            .hasMessageContaining("parameter 'maxAge': 'soon' is not a positive duration");
    }
}
