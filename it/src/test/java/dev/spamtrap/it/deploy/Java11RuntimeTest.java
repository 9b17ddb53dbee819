package dev.spamtrap.it.deploy;

import dev.spamtrap.it.Await;
import dev.spamtrap.it.JamesFixture;
import dev.spamtrap.it.SharedCassandra;
import dev.spamtrap.it.stack.Dirs;
import dev.spamtrap.it.stack.JamesProcess;
import dev.spamtrap.it.stack.Ports;
import dev.spamtrap.it.stack.ProjectLayout;
import dev.spamtrap.it.stack.PropertiesText;
import dev.spamtrap.it.stack.SmtpClient;
import dev.spamtrap.it.stack.WebAdmin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A stock James 3.8.1 memory server on its own runtime, Java 11 (Debian bullseye's OpenJDK, provisioned
 * by it/scripts/provision-rootfs), with James's own sample configuration (docker/standin/james/conf, as in
 * the official image) and the extension installed by following README.md's install section literally
 * ({@link ReadmeInstall}): a trap hit end to end. The other tests run James on Java 17.
 */
class Java11RuntimeTest {
    static final String QUARANTINE = "var/mail/spamtrap";
    static final String KEYSPACE = "it_java11";
    static JamesProcess james;

    @BeforeAll
    static void start() throws Exception {
        Scripts.Result provisioned = Scripts.script("provision-rootfs", "bullseye-jre11");
        assumeTrue(provisioned.ok(), () -> "no Java 11 runtime can be had here: " + provisioned.why());
        Path jvm = Path.of(provisioned.out().strip()).resolve("usr/lib/jvm/java-11-openjdk-amd64/bin");
        assertThat(jvm.resolve("java")).as("provision-rootfs promised a Java 11 root").isExecutable();
        assertThat(Scripts.run(List.of(jvm.resolve("java").toString(), "-version"), 60).err())
            .as("the runtime really is Java 11").contains("version \"11.");

        ProjectLayout layout = ProjectLayout.locate();
        Path root = layout.root().resolve("it/target/james-java11-stock");
        Dirs.deleteRecursively(root);
        Path conf = root.resolve("conf");
        Files.createDirectories(conf);
        try (Stream<Path> files = Files.list(layout.root().resolve("docker/standin/james/conf"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, conf.resolve(f.getFileName()));
            }
        }
        james = new JamesProcess(root).randomPorts().javaBinary(jvm.resolve("java"));
        adaptToThisMachine(conf, jvm.resolve("keytool"), james);

        new ReadmeInstall().applyTo(root);
        // What an administrator edits after step 2 (and the README's option for an immediate refusal).
        SharedCassandra.cql().execute(com.datastax.oss.driver.api.core.cql.SimpleStatement
            .newInstance("DROP KEYSPACE IF EXISTS " + KEYSPACE).setTimeout(Duration.ofSeconds(60)));
        ReadmeInstall.edit(conf.resolve("spamtrap.properties"), s -> PropertiesText.set(PropertiesText.set(
            s, "cassandra.contactPoints", SharedCassandra.get().contactPoint()), "cassandra.keyspace", KEYSPACE));
        ReadmeInstall.edit(conf.resolve("smtpserver.xml"), s -> s.replace("<mode>tarpit</mode>", "<mode>refuse</mode>"));

        james.writeHostsFile().start(JamesFixture.START);
        // The administrator's server serves the trap's domain (a trap in a domain James does not serve gets
        // James's own answer for that domain, e.g. relaying denied).
        int status = new WebAdmin(james.webAdminPort()).request("PUT", "/domains/example.com", "").statusCode();
        assertThat(status).as("PUT /domains/example.com").isIn(204, 409);
    }

    /**
     * Test-machine settings only, none about the extension: free loopback ports instead of 25, 143, 8000 ...
     * (other servers run here), the TLS keystore James's own README asks for, no JMX, JMAP off, and only
     * 127.0.0.1 relay-authorized so that 127.0.0.2 is an outside client (stock: 127.0.0.0/8).
     */
    static void adaptToThisMachine(Path conf, Path keytool, JamesProcess james) throws Exception {
        for (String xml : List.of("smtpserver.xml", "imapserver.xml", "pop3server.xml", "managesieveserver.xml")) {
            ReadmeInstall.edit(conf.resolve(xml), s -> {
                Matcher m = Pattern.compile("<bind>0\\.0\\.0\\.0:(\\d+)</bind>").matcher(s);
                StringBuilder out = new StringBuilder();
                while (m.find()) {
                    int port = m.group(1).equals("25") ? james.smtpPort() : Ports.free();
                    m.appendReplacement(out, "<bind>127.0.0.1:" + port + "</bind>");
                }
                return m.appendTail(out).toString();
            });
        }
        ReadmeInstall.edit(conf.resolve("smtpserver.xml"), s -> s.replace("<authorizedAddresses>127.0.0.0/8</authorizedAddresses>",
            "<authorizedAddresses>127.0.0.1/32</authorizedAddresses>"));
        ReadmeInstall.edit(conf.resolve("webadmin.properties"), s -> s.replace("port=8000", "port=" + james.webAdminPort()));
        ReadmeInstall.edit(conf.resolve("jmx.properties"), s -> s.replace("jmx.enabled=true", "jmx.enabled=false"));
        ReadmeInstall.edit(conf.resolve("jmap.properties"), s -> s.replace("enabled=true", "enabled=false"));
        Scripts.Result key = Scripts.run(List.of(keytool.toString(), "-genkeypair", "-alias", "james", "-keyalg", "RSA",
            "-storetype", "PKCS12", "-keystore", conf.resolve("keystore").toString(), "-storepass", "james72laBalle",
            "-dname", "CN=localhost", "-validity", "30"), 120);
        assertThat(key.ok()).as("keytool: %s", key.why()).isTrue();
    }

    @AfterAll
    static void stop() {
        if (james != null) {
            james.close();
        }
    }

    @Test
    void trapHitIsAcceptedQuarantinedAndTheClientRefusedOnItsReturn() {
        assertThat(james.log()).as("the extension loaded on Java 11").doesNotContain("UnsupportedClassVersionError");
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
        Await.until(Duration.ofSeconds(30), "the hit in Cassandra",
            () -> SharedCassandra.cql().execute("SELECT hit_count FROM " + KEYSPACE + ".offenders WHERE ip = '127.0.0.2'").one(), r -> r != null);
    }
}
