package dev.spamtrap.it.deploy;

import dev.spamtrap.it.stack.ProjectLayout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the provisioning scripts of it/scripts (and docker commands) and returns what they printed. */
final class Scripts {
    private Scripts() {
    }

    /** Result of one command: exit code, stdout, stderr. */
    record Result(int exit, String out, String err) {
        boolean ok() { return exit == 0; }
        String why() { return err.isBlank() ? out.strip() : err.strip(); }
    }

    static Result script(String name, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProjectLayout.locate().root().resolve("it/scripts").resolve(name).toString());
        cmd.addAll(List.of(args));
        return run(cmd, 1800);
    }

    static Result run(List<String> cmd, int timeoutSeconds) {
        return run(cmd, java.util.Map.of(), timeoutSeconds);
    }

    static Result run(List<String> cmd, java.util.Map<String, String> env, int timeoutSeconds) {
        try {
            Path out = java.nio.file.Files.createTempFile("spamtrap-cmd", ".out");
            Path err = java.nio.file.Files.createTempFile("spamtrap-cmd", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).directory(ProjectLayout.locate().root().toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
                pb.environment().putAll(env);
                Process p = pb.start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Result(-1, "", String.join(" ", cmd) + " did not finish within " + timeoutSeconds + " s");
                }
                return new Result(p.exitValue(), java.nio.file.Files.readString(out, StandardCharsets.UTF_8),
                    java.nio.file.Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                java.nio.file.Files.deleteIfExists(out);
                java.nio.file.Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            return new Result(-1, "", "cannot run " + cmd.get(0) + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
