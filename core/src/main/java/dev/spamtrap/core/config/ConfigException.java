package dev.spamtrap.core.config;

/**
 * A configuration problem found at start or on reload. The message always says where
 * (file and key, or file and line) and why, so an administrator can fix it without reading code.
 */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    public static ConfigException atLine(String source, int line, String reason) {
        return new ConfigException(source + ":" + line + ": " + reason);
    }

    public static ConfigException atKey(String source, String key, String reason) {
        return new ConfigException(source + ": key '" + key + "': " + reason);
    }
}
