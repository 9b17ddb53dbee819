package dev.spamtrap.james.tasks;

import org.apache.james.server.task.json.TaskExtensionModule;
import org.apache.james.server.task.json.dto.AdditionalInformationDTO;
import org.apache.james.server.task.json.dto.AdditionalInformationDTOModule;
import org.apache.james.server.task.json.dto.TaskDTO;
import org.apache.james.server.task.json.dto.TaskDTOModule;
import org.apache.james.task.Task;
import org.apache.james.task.TaskExecutionDetails;

import java.util.Set;

/**
 * {@code guice.extension.task=dev.spamtrap.james.tasks.SpamtrapTaskExtensionModule}: lets James's
 * {@code /tasks} routes show a trap import's result. The import runs where it was submitted (its entries
 * live in memory), so it has no task DTO of its own.
 */
public class SpamtrapTaskExtensionModule implements TaskExtensionModule {
    @Override
    public Set<TaskDTOModule<? extends Task, ? extends TaskDTO>> taskDTOModules() {
        return Set.of();
    }

    @Override
    public Set<AdditionalInformationDTOModule<? extends TaskExecutionDetails.AdditionalInformation, ? extends AdditionalInformationDTO>> taskAdditionalInformationDTOModules() {
        return Set.of(TrapImportDetailsDTO.MODULE);
    }
}
