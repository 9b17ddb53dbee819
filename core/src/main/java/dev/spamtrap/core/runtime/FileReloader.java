package dev.spamtrap.core.runtime;

import dev.spamtrap.core.config.ConfigException;
import dev.spamtrap.core.config.SpamtrapConfig;
import dev.spamtrap.core.net.Allowlist;
import dev.spamtrap.core.config.ListFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

/** Re-reads traps.txt and allowlist.txt when they change; a bad file keeps the previous list (logged). */
final class FileReloader {
    private static final Logger LOGGER = LoggerFactory.getLogger(FileReloader.class);

    private final SpamtrapConfig config;
    private final TrapsAndAllowlist lists;
    private FileTime trapsStamp;
    private FileTime allowlistStamp;

    FileReloader(SpamtrapConfig config, TrapsAndAllowlist lists) {
        this.config = config;
        this.lists = lists;
        this.trapsStamp = config.trapsFile().map(FileReloader::stamp).orElse(null);
        this.allowlistStamp = config.allowlistFile().map(FileReloader::stamp).orElse(null);
    }

    /** Returns true if a file changed (the caller then re-reads the store's tables in the same pass). */
    boolean reload() {
        boolean changed = false;
        if (config.trapsFile().isPresent()) {
            Path f = config.trapsFile().get();
            FileTime now = stamp(f);
            if (now != null && !now.equals(trapsStamp)) {
                trapsStamp = now;
                changed = true;
                try {
                    lists.fileTraps(ListFiles.traps(f));
                    LOGGER.info("Trap list {} reloaded: {} entries", f, lists.fileTraps().size());
                } catch (ConfigException e) {
                    LOGGER.error("Trap list not reloaded, keeping the previous one: {}", e.getMessage());
                }
            }
        }
        if (config.allowlistFile().isPresent()) {
            Path f = config.allowlistFile().get();
            FileTime now = stamp(f);
            if (now != null && !now.equals(allowlistStamp)) {
                allowlistStamp = now;
                changed = true;
                try {
                    lists.fileAllowlist(ListFiles.allowlist(f));
                    LOGGER.info("Allowlist {} reloaded: {} ranges", f, lists.fileAllowlist().ranges().size());
                } catch (ConfigException e) {
                    LOGGER.error("Allowlist not reloaded, keeping the previous one: {}", e.getMessage());
                }
            }
        }
        return changed;
    }

    private static FileTime stamp(Path f) {
        try {
            return Files.getLastModifiedTime(f);
        } catch (IOException e) {
            return null;
        }
    }
}
