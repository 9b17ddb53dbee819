package dev.spamtrap.james.tasks;

import dev.spamtrap.core.admin.ImportResult;
import dev.spamtrap.core.admin.SpamtrapAdmin;
import org.apache.james.task.Task;
import org.apache.james.task.TaskExecutionDetails;
import org.apache.james.task.TaskType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Adds many trap entries to the shared table, run by James's task manager ({@code GET /tasks/<id>} shows
 * its progress and, when done, how many were added, already present, skipped and refused with why).
 */
public final class TrapImportTask implements Task {
    private static final Logger LOGGER = LoggerFactory.getLogger(TrapImportTask.class);
    public static final TaskType TYPE = TaskType.of("spamtrap-trap-import");

    private final SpamtrapAdmin admin;
    private final List<String> entries;
    private final int skipped;
    private final String comment;
    private final AtomicReference<ImportResult> result = new AtomicReference<>();

    public TrapImportTask(SpamtrapAdmin admin, List<String> entries, int skipped, String comment) {
        this.admin = admin;
        this.entries = List.copyOf(entries);
        this.skipped = skipped;
        this.comment = comment;
    }

    @Override
    public Result run() throws InterruptedException {
        try {
            ImportResult r = admin.importTraps(entries, comment).toCompletableFuture().get();
            result.set(r);
            LOGGER.info("Trap import: {} added, {} already present, {} refused, {} foreign lines skipped",
                r.added(), r.alreadyPresent(), r.refused().size(), skipped);
            // Bad lines are reported in the details, not a failure: the good ones are in.
            return Result.COMPLETED;
        } catch (ExecutionException e) {
            LOGGER.error("Trap import failed", e.getCause());
            return Result.PARTIAL;
        }
    }

    @Override
    public TaskType type() {
        return TYPE;
    }

    @Override
    public Optional<TaskExecutionDetails.AdditionalInformation> details() {
        ImportResult r = result.get();
        return Optional.of(new Details(Clock.systemUTC().instant(), entries.size(), skipped,
            r == null ? 0 : r.added(), r == null ? 0 : r.alreadyPresent(), r == null ? List.of() : r.refused()));
    }

    /** What {@code GET /tasks/<id>} shows under {@code additionalInformation}. */
    public static final class Details implements TaskExecutionDetails.AdditionalInformation {
        private final Instant timestamp;
        private final int submitted;
        private final int skipped;
        private final int added;
        private final int alreadyPresent;
        private final List<String> refused;

        public Details(Instant timestamp, int submitted, int skipped, int added, int alreadyPresent, List<String> refused) {
            this.timestamp = timestamp;
            this.submitted = submitted;
            this.skipped = skipped;
            this.added = added;
            this.alreadyPresent = alreadyPresent;
            this.refused = List.copyOf(refused);
        }

        @Override
        public Instant timestamp() { return timestamp; }
        public int submitted() { return submitted; }
        public int skipped() { return skipped; }
        public int added() { return added; }
        public int alreadyPresent() { return alreadyPresent; }
        public List<String> refused() { return refused; }
    }
}
