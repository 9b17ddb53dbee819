package dev.spamtrap.agent.backend;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/** The {@code log} backend's runner: logs each command and its input instead of running it, and reports success. */
public final class DryRunCommandRunner implements CommandRunner {
    private static final Logger LOGGER = LoggerFactory.getLogger("dev.spamtrap.agent.DRY-RUN");
    private static final int MAX_LINES = 20;

    @Override
    public Result run(List<String> argv, byte[] stdin, Duration timeout) {
        StringBuilder b = new StringBuilder("would run: ");
        for (String a : argv) {
            b.append(a.isEmpty() || a.contains(" ") ? "'" + a + "'" : a).append(' ');
        }
        if (stdin != null) {
            String[] lines = new String(stdin, StandardCharsets.UTF_8).split("\n");
            b.append("with input:");
            for (int i = 0; i < lines.length && i < MAX_LINES; i++) {
                b.append("\n    ").append(lines[i].length() > 300 ? lines[i].substring(0, 300) + "..." : lines[i]);
            }
            if (lines.length > MAX_LINES) {
                b.append("\n    ... ").append(lines.length - MAX_LINES).append(" more line(s)");
            }
        }
        LOGGER.info(b.toString());
        return new Result(0, "");
    }
}
