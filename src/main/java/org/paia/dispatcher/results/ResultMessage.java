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
    /** Instances: all, succeeded, failed (neither succeeded nor cancelled), retried, and cancelled (shown when any). */
    public record Counts(int total, int succeeded, int failed, int retried,
                         @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_DEFAULT)
                         int cancelled) {

        public Counts(int total, int succeeded, int failed, int retried) {
            this(total, succeeded, failed, retried, 0);
        }

        /** The counts of a task's recorded outcomes. */
        public static Counts of(int total, List<org.paia.dispatcher.ledger.LedgerEntry> outcomes) {
            int succeeded = (int) outcomes.stream().filter(o -> o.outcome() == Outcome.SUCCEEDED).count();
            int cancelled = (int) outcomes.stream().filter(o -> o.outcome() == Outcome.CANCELLED).count();
            int retried = (int) outcomes.stream().filter(o -> o.attempt() != null && o.attempt() > 0).count();
            return new Counts(total, succeeded, total - succeeded - cancelled, retried, cancelled);
        }
    }

    public static ResultMessage rejected(String roomId, Long gameId, String gameName, String reason, Instant at) {
        return new ResultMessage("Task rejected: " + reason, roomId, gameId, gameName, Outcome.REJECTED, List.of(),
                Map.of(), null, new Counts(0, 0, 0, 0), null, reason, FailureSource.INPUT, null, at);
    }
}
