package dev.spamtrap.agent.backend;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/** Runs an external command as an argument vector (never through a shell), feeding it optional standard input. */
public interface CommandRunner {
    final class Result {
        private final int exitCode;
        private final String output;

        public Result(int exitCode, String output) {
            this.exitCode = exitCode;
            this.output = output;
        }

        public int exitCode() { return exitCode; }
        /** Standard output and error together. */
        public String output() { return output; }
        public boolean ok() { return exitCode == 0; }
    }

    /**
     * @param stdin bytes to feed on standard input, or null for none
     * @throws IOException when the command cannot be started or does not finish within the timeout
     */
    Result run(List<String> argv, byte[] stdin, Duration timeout) throws IOException;

    /**
     * The same, keeping up to {@code maxOutputBytes} of output instead of the usual 64 KiB: for listings such as
     * {@code nft -j list set} of a large set. Runners that never truncate need not override it.
     */
    default Result run(List<String> argv, byte[] stdin, Duration timeout, int maxOutputBytes) throws IOException {
        return run(argv, stdin, timeout);
    }
}
