package dev.spamtrap.it.stack;

import java.nio.file.Path;

/** Starts the firewall agent in dry-run (log) mode for the demo, once the agent module provides it. */
final class DemoAgent {
    private DemoAgent() {
    }

    static AutoCloseable start(ProjectLayout layout, Path run, String cassandraContactPoint) {
        System.out.println("Firewall agent: not started (the agent module is not built yet).");
        return () -> { };
    }
}
