package dev.spamtrap.it.stack;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the checkout and the artifacts the build left in it (runtimes, the drop-in jar, sample conf). */
public final class ProjectLayout {
    private final Path root;

    private ProjectLayout(Path root) {
        this.root = root;
    }

    public static ProjectLayout locate() {
        String prop = System.getProperty("spamtrap.root");
        Path start = prop != null && !prop.isBlank() ? Path.of(prop) : Path.of("").toAbsolutePath();
        for (Path p = start.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("it/cassandra-runtime")) && Files.isDirectory(p.resolve("conf"))) {
                return new ProjectLayout(p);
            }
        }
        throw new IllegalStateException("Cannot find the james-spamtrap checkout from " + start + " (set -Dspamtrap.root)");
    }

    public Path root() {
        return root;
    }

    public Path cassandraLib() {
        return built(root.resolve("it/cassandra-runtime/target/lib"));
    }

    public Path jamesLib() {
        return built(root.resolve("it/james-runtime/target/lib"));
    }

    public Path extensionJar() {
        return built(root.resolve("dist/target/james-spamtrap-extension.jar"));
    }

    public Path agentJar() {
        return built(root.resolve("agent/target/spamtrap-agent.jar"));
    }

    public Path jamesConf() {
        return root.resolve("conf/james");
    }

    public Path conf() {
        return root.resolve("conf");
    }

    private static Path built(Path p) {
        if (!Files.exists(p)) {
            throw new IllegalStateException(p + " is missing: build first (mvn -B install -DskipTests)");
        }
        return p;
    }
}
