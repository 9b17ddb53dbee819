package dev.spamtrap.it.stack;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The baseline of bench/throughput: the shipped configuration with every spamtrap class taken out, so that a
 * stock James without our jar starts from it (it once kept extensions.properties and a mailet whose matcher is
 * James's own, and James exited with ClassNotFoundException).
 */
class PlainJamesConfigurationTest {
    @TempDir
    Path root;

    @Test
    void namesNoSpamtrapClassInAnyFile() throws IOException {
        JamesProcess plain = new JamesProcess(root).withoutExtension().prepare();

        assertThat(plain.conf().resolve("extensions.properties")).doesNotExist();
        assertThat(root.resolve("extensions-jars")).isEmptyDirectory();
        try (Stream<Path> files = Files.list(plain.conf())) {
            List<String> naming = files.filter(f -> read(f).contains("dev.spamtrap.")).map(f -> f.getFileName().toString()).toList();
            assertThat(naming).as("files still naming a spamtrap class").isEmpty();
        }
        assertThat(read(plain.conf().resolve("webadmin.properties"))).contains("MetricsRoutes");
        assertThat(read(plain.conf().resolve("mailetcontainer.xml"))).contains("RemoveMimeHeader");
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
