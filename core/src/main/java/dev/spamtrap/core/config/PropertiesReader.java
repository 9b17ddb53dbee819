package dev.spamtrap.core.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed reads of one {@code .properties} file (spamtrap.properties, agent.properties) whose every error
 * names the file, the key and the reason. Relative paths are resolved against the file's folder.
 */
public class PropertiesReader {
    private final Path source;
    private final Properties properties;

    public PropertiesReader(Path source, Properties properties) {
        this.source = source;
        this.properties = properties;
    }

    /** Reads {@code file}, refusing keys not in {@code known}, so a typo never silently means a default. */
    public static Properties load(Path file, Set<String> known, String what) {
        return load(file, known, key -> false, what);
    }

    /** As {@link #load(Path, Set, String)}, also taking the keys {@code alsoKnown} accepts (keys with a name in them). */
    public static Properties load(Path file, Set<String> known, java.util.function.Predicate<String> alsoKnown, String what) {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read " + what + ": " + e.getMessage(), e);
        }
        for (String key : p.stringPropertyNames()) {
            if (!known.contains(key) && !alsoKnown.test(key)) {
                throw ConfigException.atKey(file.toString(), key, "unknown key (known keys: " + String.join(", ", new TreeSet<>(known)) + ")");
            }
        }
        return p;
    }

    public Path source() {
        return source;
    }

    /** The keys the file sets. */
    public Set<String> keys() {
        return properties.stringPropertyNames();
    }

    public ConfigException fail(String key, String reason) {
        return ConfigException.atKey(source.toString(), key, reason);
    }

    public Optional<String> optional(String key) {
        String v = properties.getProperty(key);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    public String required(String key) {
        return optional(key).orElseThrow(() -> fail(key, "is required"));
    }

    public String string(String key, String dflt) {
        return optional(key).orElse(dflt);
    }

    public Path path(String value) {
        Path path = Path.of(value);
        Path dir = source.toAbsolutePath().getParent();
        return path.isAbsolute() ? path : dir.resolve(path).normalize();
    }

    public Path existingFile(String key, String value) {
        Path path = path(value);
        if (!Files.isRegularFile(path)) {
            throw fail(key, "file '" + path + "' does not exist");
        }
        return path;
    }

    public int intIn(String key, int dflt, int min, int max) {
        String v = string(key, Integer.toString(dflt));
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw fail(key, "'" + v + "' is not a whole number");
        }
        if (n < min || n > max) {
            throw fail(key, n + " is out of range " + min + ".." + max);
        }
        return n;
    }

    public boolean bool(String key, boolean dflt) {
        String v = string(key, Boolean.toString(dflt)).toLowerCase(Locale.ROOT);
        if (v.equals("true") || v.equals("yes")) {
            return true;
        }
        if (v.equals("false") || v.equals("no")) {
            return false;
        }
        throw fail(key, "'" + v + "' is neither true nor false");
    }

    public Duration duration(String key, String dflt) {
        String v = string(key, dflt);
        try {
            return Durations.parse(v);
        } catch (IllegalArgumentException e) {
            throw fail(key, e.getMessage());
        }
    }

    public Duration positiveDuration(String key, String dflt) {
        Duration d = duration(key, dflt);
        if (d.isZero()) {
            throw fail(key, "must be longer than 0");
        }
        return d;
    }

    public Duration durationIn(String key, String dflt, Duration min, Duration max) {
        Duration d = duration(key, dflt);
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw fail(key, string(key, dflt) + " is out of range " + Durations.human(min) + " .. " + Durations.human(max));
        }
        return d;
    }

    public String name(String key, String dflt, String pattern) {
        String v = string(key, dflt);
        if (!v.matches(pattern)) {
            throw fail(key, "'" + v + "' is not a valid name (" + pattern + ")");
        }
        return v;
    }
}
