package dev.spamtrap.it.deploy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** docker-compose (v1, or the docker compose plugin) on the repository's unchanged docker-compose.yml. */
final class Compose {
    private final String project;
    private final Map<String, String> env;
    private final List<String> command;

    Compose(String project, Map<String, String> env) {
        this.project = project;
        this.env = env;
        this.command = Scripts.run(List.of("docker-compose", "version"), 60).ok()
            ? List.of("docker-compose") : List.of("docker", "compose");
    }

    String project() {
        return project;
    }

    Scripts.Result run(int timeoutSeconds, String... args) {
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(List.of("-p", project, "-f", "docker-compose.yml"));
        cmd.addAll(List.of(args));
        return Scripts.run(cmd, env, timeoutSeconds);
    }

    Scripts.Result must(int timeoutSeconds, String... args) {
        Scripts.Result r = run(timeoutSeconds, args);
        if (!r.ok()) {
            throw new AssertionError("docker-compose " + String.join(" ", args) + " failed (" + r.exit() + "):\n" + r.out() + r.err()
                + "\n--- logs ---\n" + run(120, "logs", "--no-color", "--tail", "80").out());
        }
        return r;
    }

    /** The container id of a service (empty if it has none). */
    String container(String service) {
        return must(60, "ps", "-q", service).out().strip();
    }

    static Scripts.Result docker(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("docker");
        cmd.addAll(List.of(args));
        return Scripts.run(cmd, 300);
    }
}
