package dev.spamtrap.it.deploy;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * James 3.8.1 on its own runtime, Java 11 (Debian bullseye's OpenJDK, provisioned by
 * it/scripts/provision-rootfs), with the drop-in jar and the sample configuration: a trap hit end to end.
 * This is what an administrator with a stock James gets; the other tests run James on Java 17.
 */
class Java11RuntimeTest {
    static final String QUARANTINE = "var/mail/spamtrap";
    static JamesProcess james;

    @BeforeAll
    static void start() {
        Scripts.Result provisioned = Scripts.script("provision-rootfs", "bullseye-jre11");
        assumeTrue(provisioned.ok(), () -> "no Java 11 runtime can be had here: " + provisioned.why());
        Path java = Path.of(provisioned.out().strip()).resolve("usr/lib/jvm/java-11-openjdk-amd64/bin/java");
        assertThat(java).as("provision-rootfs promised a Java 11 root").isExecutable();
        Scripts.Result version = Scripts.run(List.of(java.toString(), "-version"), 60);
        assertThat(version.err()).as("the runtime really is Java 11").contains("version \"11.");

        james = JamesFixture.james("java11", "it_java11").javaBinary(java).prepare().start(JamesFixture.START);
    }

    @AfterAll
    static void stop() {
        if (james != null) {
            james.close();
        }
    }

    @Test
    void trapHitIsAcceptedQuarantinedAndTheClientRefusedOnItsReturn() throws Exception {
        assertThat(Files.readString(james.root().resolve("james.log")))
            .as("the extension loaded without UnsupportedClassVersionError").doesNotContain("UnsupportedClassVersionError");
        int port = james.smtpPort();
        List<String> replies = SmtpClient.deliver("127.0.0.2", port, "bot@spam.test", List.of("trap@example.com"), "spam-on-java11");
        assertThat(replies).allSatisfy(r -> assertThat(r).matches("(?s)^[23]\\d\\d.*"));
        assertThat(replies).contains("250 2.1.5 Recipient <trap@example.com> OK");

        WebAdmin webAdmin = new WebAdmin(james.webAdminPort());
        String listed = Await.until(Duration.ofSeconds(30), "quarantined mail", () -> webAdmin.listMails(QUARANTINE), s -> !s.equals("[]"));
        String key = listed.replaceAll("^\\[\"|\"]$", "");
        assertThat(webAdmin.getMail(QUARANTINE, key)).contains("Subject: spam-on-java11");

        List<String> refusal = JamesFixture.connectionAnswer("127.0.0.2", port);
        assertThat(refusal).hasSize(1);
        assertThat(refusal.get(0)).startsWith("450 4.7.1 ").contains("127.0.0.2").doesNotContainIgnoringCase("trap@");
    }
}
