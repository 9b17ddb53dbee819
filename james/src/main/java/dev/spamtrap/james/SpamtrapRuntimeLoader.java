package dev.spamtrap.james;

import dev.spamtrap.core.config.ConfigException;
import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.runtime.Spamtrap;
import org.apache.james.filesystem.api.FileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.nio.file.Path;
import java.time.Clock;

/**
 * Starts the node's runtime from {@code conf/spamtrap.properties}, found through James's FileSystem (so
 * {@code file://conf/} means James's own configuration folder), and closes it when the JVM stops.
 * A bad file fails James's start with the file, the key and the reason.
 */
final class SpamtrapRuntimeLoader {
    private static final Logger LOGGER = LoggerFactory.getLogger(SpamtrapRuntimeLoader.class);
    static final String DEFAULT_LOCATION = "file://conf/spamtrap.properties";

    private SpamtrapRuntimeLoader() {
    }

    static Spamtrap start(FileSystem fileSystem, String location) {
        File file;
        try {
            file = fileSystem.getFile(location);
        } catch (Exception e) {
            throw new ConfigException("spamtrap.properties: cannot resolve '" + location + "': " + e.getMessage());
        }
        if (!file.isFile()) {
            throw new ConfigException("spamtrap.properties: file '" + file + "' does not exist (copy conf/james/spamtrap.properties into James's conf/)");
        }
        Spamtrap spamtrap = Spamtrap.start(SpamtrapConfig.load(Path.of(file.getPath())), Clock.systemUTC());
        // James's stop (its own shutdown hook) does not reach objects of the extension injector: close with the JVM.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOGGER.info("Closing the spamtrap runtime");
            spamtrap.close();
        }, "spamtrap-shutdown"));
        return spamtrap;
    }
}
