package dev.spamtrap.james.tasks;

import com.fasterxml.jackson.annotation.JsonProperty;
import org.apache.james.json.DTOModule;
import org.apache.james.server.task.json.dto.AdditionalInformationDTO;
import org.apache.james.server.task.json.dto.AdditionalInformationDTOModule;

import java.time.Instant;
import java.util.List;

/** JSON form of {@link TrapImportTask.Details} for James's {@code /tasks} routes. */
public final class TrapImportDetailsDTO implements AdditionalInformationDTO {
    public static final AdditionalInformationDTOModule<TrapImportTask.Details, TrapImportDetailsDTO> MODULE =
        DTOModule.forDomainObject(TrapImportTask.Details.class)
            .convertToDTO(TrapImportDetailsDTO.class)
            .toDomainObjectConverter(d -> new TrapImportTask.Details(d.timestamp, d.submitted, d.skipped, d.added, d.alreadyPresent, d.refused))
            .toDTOConverter((d, type) -> new TrapImportDetailsDTO(type, d.timestamp(), d.submitted(), d.skipped(), d.added(), d.alreadyPresent(), d.refused()))
            .typeName(TrapImportTask.TYPE.asString())
            .withFactory(AdditionalInformationDTOModule::new);

    private final String type;
    private final Instant timestamp;
    private final int submitted;
    private final int skipped;
    private final int added;
    private final int alreadyPresent;
    private final List<String> refused;

    public TrapImportDetailsDTO(@JsonProperty("type") String type, @JsonProperty("timestamp") Instant timestamp,
                                @JsonProperty("submitted") int submitted, @JsonProperty("skipped") int skipped,
                                @JsonProperty("added") int added, @JsonProperty("alreadyPresent") int alreadyPresent,
                                @JsonProperty("refused") List<String> refused) {
        this.type = type;
        this.timestamp = timestamp;
        this.submitted = submitted;
        this.skipped = skipped;
        this.added = added;
        this.alreadyPresent = alreadyPresent;
        this.refused = refused == null ? List.of() : refused;
    }

    @Override
    public String getType() { return type; }
    @Override
    public Instant getTimestamp() { return timestamp; }
    public int getSubmitted() { return submitted; }
    public int getSkipped() { return skipped; }
    public int getAdded() { return added; }
    public int getAlreadyPresent() { return alreadyPresent; }
    public List<String> getRefused() { return refused; }
}
