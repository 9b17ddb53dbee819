package dev.spamtrap.core.store;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store offers typed operations only: no class of core outside {@code dev.spamtrap.core.store} refers to a Cassandra
 * driver type (issue 21). Read from the compiled classes: a class file names every type it uses in its constant pool.
 */
class DriverStaysInStoreTest {
    @Test
    void noClassOutsideTheStorePackageUsesTheDriver() throws Exception {
        Path classes = Path.of(CassandraOffenderStore.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path store = classes.resolve("dev/spamtrap/core/store");
        assertThat(store.resolve("CassandraOffenderStore.class")).as("compiled classes found in " + classes).exists();
        byte[] driver = "com/datastax/".getBytes(StandardCharsets.UTF_8);
        assertThat(contains(Files.readAllBytes(store.resolve("Statements.class")), driver)).as("the check sees the driver where it is").isTrue();
        List<String> outside;
        try (Stream<Path> files = Files.walk(classes)) {
            outside = files.filter(f -> f.toString().endsWith(".class") && !f.startsWith(store))
                .filter(f -> {
                    try {
                        return contains(Files.readAllBytes(f), driver);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })
                .map(f -> classes.relativize(f).toString())
                .collect(Collectors.toList());
        }
        assertThat(outside).as("classes outside the store package that use a driver type").isEmpty();
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
