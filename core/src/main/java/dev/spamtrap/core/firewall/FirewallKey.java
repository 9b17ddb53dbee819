package dev.spamtrap.core.firewall;

import dev.spamtrap.core.config.ConfigException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;

/**
 * The shared HMAC key. A key file holds either base64 text (e.g. made with
 * {@code head -c 32 /dev/urandom | base64 > agent.key}) or raw bytes; either way at least
 * {@link #MIN_BYTES} bytes after decoding. A missing, empty or short key is refused with a message naming
 * the file: there is never a fallback to an empty or default key.
 */
public final class FirewallKey {
    public static final int MIN_BYTES = 32;

    private final byte[] bytes;

    private FirewallKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /** @throws ConfigException naming the file and why the key is not usable */
    public static FirewallKey load(Path file) {
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": key file does not exist (create one with: head -c 32 /dev/urandom | base64 > " + file + ")");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read key file: " + e.getMessage(), e);
        }
        return fromFileContent(file.toString(), raw);
    }

    /** @throws ConfigException naming the source and why the key is not usable */
    public static FirewallKey fromFileContent(String source, byte[] raw) {
        if (raw.length == 0) {
            throw new ConfigException(source + ": key file is empty; a key of at least " + MIN_BYTES + " bytes is required");
        }
        String text = new String(raw, StandardCharsets.ISO_8859_1).strip();
        byte[] key;
        String form;
        if (text.isEmpty()) {
            throw new ConfigException(source + ": key file holds only white space; a key of at least " + MIN_BYTES + " bytes is required");
        }
        if (looksLikeBase64(text)) {
            try {
                key = Base64.getDecoder().decode(text);
                form = "base64";
            } catch (IllegalArgumentException e) {
                throw new ConfigException(source + ": key file looks like base64 but does not decode: " + e.getMessage());
            }
        } else {
            key = raw;
            form = "raw";
        }
        if (key.length < MIN_BYTES) {
            throw new ConfigException(source + ": key is too short: " + key.length + " bytes (" + form + "), at least " + MIN_BYTES
                + " bytes are required (create one with: head -c 32 /dev/urandom | base64)");
        }
        return new FirewallKey(key);
    }

    private static boolean looksLikeBase64(String text) {
        if (text.length() % 4 != 0) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    public static FirewallKey of(byte[] bytes) {
        if (bytes.length < MIN_BYTES) {
            throw new IllegalArgumentException("key is too short: " + bytes.length + " bytes, at least " + MIN_BYTES + " required");
        }
        return new FirewallKey(bytes.clone());
    }

    byte[] bytes() {
        return bytes.clone();
    }

    public int length() {
        return bytes.length;
    }

    @Override
    public String toString() {
        return "FirewallKey[" + bytes.length + " bytes]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FirewallKey && Arrays.equals(((FirewallKey) o).bytes, bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }
}
