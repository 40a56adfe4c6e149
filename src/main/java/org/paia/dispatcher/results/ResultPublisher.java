package org.paia.dispatcher.results;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.paia.dispatcher.ledger.FailureSource;
import org.paia.dispatcher.ledger.Ledger;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.Outcome;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.schedule.TaskBook;

/**
 * Aggregates a task's instance outcomes into its one result message and publishes it together with
 * the task's {@code TASK_COMPLETED} ledger record, in one Kafka transaction: the result exists if and
 * only if the task is marked completed, so it is never published twice.
 */
public class ResultPublisher {

    private final Ledger ledger;
    private final ArtifactStore store;
    private final ObjectMapper mapper;
    private final String resultTopic;
    private final Clock clock;

    public ResultPublisher(Ledger ledger, ArtifactStore store, ObjectMapper mapper, String resultTopic, Clock clock) {
        this.ledger = ledger;
        this.store = store;
        this.mapper = mapper;
        this.resultTopic = resultTopic;
        this.clock = clock;
    }

    public void publish(TaskBook.OpenTask task) throws JsonProcessingException {
        ResultMessage result = aggregate(task);
        ProducerRecord<String, byte[]> record =
                new ProducerRecord<>(resultTopic, task.roomId(), mapper.writeValueAsBytes(result));
        ledger.recordWith(List.of(record), LedgerEntry.completed(task.roomId(), result.outcome(), clock.instant()));
    }

    ResultMessage aggregate(TaskBook.OpenTask task) {
        Instant now = clock.instant();
        if (task.task() == null) {
            return new ResultMessage("Task " + task.roomId() + " failed: " + task.invalidReason(), task.roomId(), null,
                    null, Outcome.FAILED, List.of(), Map.of(), null, new ResultMessage.Counts(0, 0, 0),
                    task.invalidReason(), FailureSource.INPUT, null, now);
        }
        List<LedgerEntry> outcomes = task.outcomes();
        int succeeded = (int) outcomes.stream().filter(o -> o.outcome() == Outcome.SUCCEEDED).count();
        int total = task.task().instances();
        LedgerEntry first = outcomes.stream().filter(o -> o.outcome() == Outcome.SUCCEEDED).findFirst()
                .orElse(outcomes.isEmpty() ? null : outcomes.get(0));
        LedgerEntry firstFailure = outcomes.stream().filter(o -> o.outcome() != Outcome.SUCCEEDED).findFirst().orElse(null);
        Outcome outcome = succeeded == total ? Outcome.SUCCEEDED
                : total == 1 && first != null ? first.outcome() : Outcome.FAILED;

        Map<String, String> links = new LinkedHashMap<>();
        if (first != null && first.artifacts() != null) {
            first.artifacts().forEach((kind, blob) -> links.put(kind, store.readLink(blob)));
        }
        List<String> azureStorageUrl = new ArrayList<>();
        for (String kind : List.of("video", "result")) {
            if (links.containsKey(kind)) {
                azureStorageUrl.add(links.get(kind));
            }
        }
        String pod = first != null && first.pod() != null ? first.pod()
                : PodNames.podName(task.roomId(), 0, 0);
        String status = total == 1 ? "Pod " + pod + " finished"
                : "Task " + task.roomId() + " finished: " + succeeded + "/" + total + " instances succeeded";
        Instant startedAt = outcomes.stream().map(LedgerEntry::startedAt).filter(Objects::nonNull)
                .min(Instant::compareTo).orElse(task.acceptedAt());
        Instant finishedAt = outcomes.stream().map(LedgerEntry::finishedAt).filter(Objects::nonNull)
                .max(Instant::compareTo).orElse(now);
        return new ResultMessage(status, task.roomId(), task.task().gameId(), task.task().gameName(), outcome,
                azureStorageUrl, links, first == null ? null : first.result(),
                new ResultMessage.Counts(total, succeeded, total - succeeded),
                firstFailure == null ? null : firstFailure.reason(),
                firstFailure == null ? null : firstFailure.errorSource(), startedAt, finishedAt);
    }
}
