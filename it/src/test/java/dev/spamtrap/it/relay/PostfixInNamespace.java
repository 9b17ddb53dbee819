package dev.spamtrap.it.relay;

import dev.spamtrap.it.firewall.Netns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The system's Postfix (Debian package) run with a configuration, queue and log of its own under a folder, inside a
 * network namespace: it listens and sends from one address and relays mail for example.com to James at
 * 127.0.0.1:2525, as a backup MX or an ordinary sending MTA does.
 */
final class PostfixInNamespace implements AutoCloseable {
    private final String namespace;
    private final Path dir;
    private final Path conf;
    private boolean started;

    /** Fails the test, with what to install, where Postfix or swaks (the tests' client) is missing. */
    static void checkInstalled() {
        org.assertj.core.api.Assertions.assertThat(Files.isExecutable(Path.of("/usr/sbin/postfix"))).as("postfix installed (apt-get install postfix)").isTrue();
        org.assertj.core.api.Assertions.assertThat(Files.isExecutable(Path.of("/usr/bin/swaks"))).as("swaks installed (apt-get install swaks)").isTrue();
    }

    PostfixInNamespace(String namespace, Path dir) {
        this.namespace = namespace;
        this.dir = dir;
        this.conf = dir.resolve("etc");
    }

    /** Starts it as {@code hostname} on {@code address}, relaying for the clients of {@code mynetworks}. */
    PostfixInNamespace start(String hostname, String address, String mynetworks) throws IOException {
        Path queue = dir.resolve("spool");
        Path data = dir.resolve("data");
        Files.createDirectories(conf);
        Files.createDirectories(queue.resolve("pid"));
        Files.createDirectories(data);
        Netns.must("chown", "postfix", data.toString());
        for (String f : List.of("dynamicmaps.cf", "postfix-files")) {
            Files.copy(Path.of("/etc/postfix", f), conf.resolve(f));
        }
        // Debian's master.cf, every service out of chroot (the private queue directory has no chroot files)
        String master = Files.readString(Path.of("/etc/postfix/master.cf"))
            .replaceAll("(?m)^(\\S+\\s+(?:inet|unix|unix-dgram|fifo|pass)\\s+\\S+\\s+\\S+\\s+)y(\\s)", "$1n$2");
        Files.writeString(conf.resolve("master.cf"), master);
        Files.writeString(conf.resolve("main.cf"), String.join("\n",
            "compatibility_level = 3.6",
            "queue_directory = " + queue,
            "data_directory = " + data,
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "myhostname = " + hostname,
            "inet_interfaces = " + address,
            "inet_protocols = ipv4",
            "mydestination =",
            "relay_domains = example.com",
            "relayhost = [127.0.0.1]:2525",
            "smtp_bind_address = " + address,
            "smtp_dns_support_level = disabled",
            "smtpd_peername_lookup = no",
            "mynetworks = " + mynetworks,
            "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination",
            "maillog_file = " + dir.resolve("postfix.log"),
            "maillog_file_prefixes = " + dir,
            "biff = no",
            "") + "\n");
        Netns.inMust(namespace, "postfix", "-c", conf.toString(), "start");
        started = true;
        return this;
    }

    /** Its mail log so far (empty before the first line). */
    String log() {
        try {
            Path log = dir.resolve("postfix.log");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        if (started) {
            Netns.run(Netns.in(namespace, "postfix", "-c", conf.toString(), "stop"));
        }
    }
}
