package org.paia.dispatcher.results;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.paia.dispatcher.ledger.FailureSource;
import org.paia.dispatcher.ledger.Outcome;

/**
 * The result message of SPEC §2, one per task. {@code status} and {@code azure_storage_url} are
 * what the web service reads today; the other fields are additions it may ignore.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ResultMessage(
        String status,
        String roomId,
        Long gameId,
        String gameName,
        Outcome outcome,
        List<String> azureStorageUrl,
        Map<String, String> artifacts,
        JsonNode result,
        Counts instances,
        /* Game time of the recorded attempts (pod start to end), summed over instances */
        Double gpuSeconds,
        String error,
        /* USER_CODE, PLATFORM or INPUT when the outcome is not SUCCEEDED */
        FailureSource errorSource,
        Instant startedAt,
        Instant finishedAt) {

    /** Instance counts of a task; {@code retried}: instances that needed more than one attempt. */
    public record Counts(int total, int succeeded, int failed, int retried) {
    }

    public static ResultMessage rejected(String roomId, Long gameId, String gameName, String reason, Instant at) {
        return new ResultMessage("Task rejected: " + reason, roomId, gameId, gameName, Outcome.REJECTED, List.of(),
                Map.of(), null, new Counts(0, 0, 0, 0), null, reason, FailureSource.INPUT, null, at);
    }
}
