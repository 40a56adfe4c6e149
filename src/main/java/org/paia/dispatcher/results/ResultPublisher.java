package org.paia.dispatcher.results;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.ledger.FailureSource;
import org.paia.dispatcher.ledger.LedgerWrite;
import org.paia.dispatcher.events.GameEvent;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.Outcome;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.schedule.TaskBook;

/**
 * Aggregates a task's instance outcomes into its one result message and publishes it together with
 * the task's {@code TASK_COMPLETED} ledger record and the tombstones of its instance records, in one
 * Kafka transaction: the result exists if and only if the task is marked completed, so it is never
 * published twice.
 */
public class ResultPublisher {

    private final Workspace workspace;
    private final ObjectMapper mapper;
    private final String resultTopic;
    private final Clock clock;

    public ResultPublisher(Workspace workspace, ObjectMapper mapper, String resultTopic, Clock clock) {
        this.workspace = workspace;
        this.mapper = mapper;
        this.resultTopic = resultTopic;
        this.clock = clock;
    }

    /**
     * The task's completion, for the route to commit in one transaction ({@code paia-tx:ledger}): its result
     * message, its {@code TASK_COMPLETED}, and tombstones of its instance records — the ledger keeps only the
     * room's key, for the duplicate window ({@code LedgerLifecycle}).
     */
    public LedgerWrite completion(TaskBook.OpenTask task, Map<String, String> links) throws IOException {
        ResultMessage result = aggregate(task, links);
        ProducerRecord<String, byte[]> record =
                new ProducerRecord<>(resultTopic, task.roomId(), mapper.writeValueAsBytes(result));
        java.time.Instant now = clock.instant();
        return new LedgerWrite(List.of(record),
                List.of(LedgerEntry.completed(task.roomId(), result.outcome(), now)), task.instanceKeys())
                .with(GameEvent.task(GameEvent.Type.FINISHED, task.roomId(), now)
                        .withOutcome(result.outcome(), result.error(), null));
    }

    /** The blobs whose links the task's result (and a batch's manifest) shows: every recorded artifact. */
    public List<String> linkedBlobs(TaskBook.OpenTask task) {
        List<String> blobs = new ArrayList<>();
        for (LedgerEntry outcome : task.outcomes()) {
            if (outcome.artifacts() != null) {
                blobs.addAll(outcome.artifacts().values());
            }
        }
        return blobs;
    }

    /** Where a batch's manifest goes in the records container. */
    public static String manifestBlob(String roomId) {
        return roomId + "/manifest.json";
    }

    ResultMessage aggregate(TaskBook.OpenTask task, Map<String, String> blobLinks) throws IOException {
        Instant now = clock.instant();
        if (task.task() == null) {
            return new ResultMessage("Task " + task.roomId() + " failed: " + task.invalidReason(), task.roomId(), null,
                    null, Outcome.FAILED, List.of(), Map.of(), null, new ResultMessage.Counts(0, 0, 0, 0), null,
                    task.invalidReason(), FailureSource.INPUT, null, now);
        }
        List<LedgerEntry> outcomes = task.outcomes();
        int total = task.task().instances();
        ResultMessage.Counts counts = ResultMessage.Counts.of(total, outcomes);
        int succeeded = counts.succeeded();
        boolean cancelled = counts.cancelled() > 0;
        double gpuSeconds = outcomes.stream().mapToDouble(ResultPublisher::gameSeconds).sum();
        gpuSeconds = Math.round(gpuSeconds * 1000) / 1000.0;
        LedgerEntry first = outcomes.stream().filter(o -> o.outcome() == Outcome.SUCCEEDED).findFirst()
                .orElse(outcomes.isEmpty() ? null : outcomes.get(0));
        LedgerEntry firstFailure = outcomes.stream().filter(o -> o.outcome() != Outcome.SUCCEEDED).findFirst().orElse(null);
        Outcome outcome = cancelled ? Outcome.CANCELLED : succeeded == total ? Outcome.SUCCEEDED
                : total == 1 && first != null ? first.outcome() : Outcome.FAILED;
        if (cancelled) {
            // What ran is linked (a single game's partial artifacts; a batch's manifest); the error says why it stopped.
            firstFailure = outcomes.stream().filter(o -> o.outcome() == Outcome.CANCELLED).findFirst().orElse(firstFailure);
        }

        Map<String, String> links = new LinkedHashMap<>();
        if (first != null && first.artifacts() != null) {
            first.artifacts().forEach((kind, blob) -> links.put(kind, link(blobLinks, blob)));
        }
        List<String> azureStorageUrl = new ArrayList<>();
        for (String kind : List.of("video", "result")) {
            if (links.containsKey(kind)) {
                azureStorageUrl.add(links.get(kind));
            }
        }
        if (total > 1) {
            links.put("manifest", link(blobLinks, manifestBlob(task.roomId())));
        }
        String pod = first != null && first.pod() != null ? first.pod()
                : PodNames.podName(task.roomId(), 0, 0);
        String status = cancelled
                ? (total == 1 ? "Pod " + pod + " cancelled"
                        : "Task " + task.roomId() + " cancelled: " + succeeded + "/" + total + " instances succeeded, "
                        + counts.cancelled() + " cancelled")
                : total == 1 ? "Pod " + pod + " finished"
                : "Task " + task.roomId() + " finished: " + succeeded + "/" + total + " instances succeeded";
        Instant startedAt = outcomes.stream().map(LedgerEntry::startedAt).filter(Objects::nonNull)
                .min(Instant::compareTo).orElse(task.acceptedAt());
        Instant finishedAt = outcomes.stream().map(LedgerEntry::finishedAt).filter(Objects::nonNull)
                .max(Instant::compareTo).orElse(now);
        return new ResultMessage(status, task.roomId(), task.task().gameId(), task.task().gameName(), outcome,
                azureStorageUrl, links, first == null ? null : first.result(), counts, gpuSeconds,
                firstFailure == null ? null : firstFailure.reason(),
                firstFailure == null ? null : firstFailure.errorSource(), startedAt, finishedAt);
    }

    private static double gameSeconds(LedgerEntry outcome) {
        if (outcome.startedAt() == null || outcome.finishedAt() == null
                || outcome.finishedAt().isBefore(outcome.startedAt())) {
            return 0;
        }
        return Duration.between(outcome.startedAt(), outcome.finishedAt()).toMillis() / 1000.0;
    }

    private static String link(Map<String, String> blobLinks, String blob) {
        String link = blobLinks.get(blob);
        if (link == null) {
            throw new IllegalStateException("no read link was made for blob " + blob);
        }
        return link;
    }

    /**
     * Writes every instance's outcome, with read links to its artifacts, to the room's {@code manifest.json}
     * in the workspace, for the {@code task-manifest} route to upload; returns the file. Streamed through the
     * file: a manifest of 10,000 instances never sits in the heap as one string.
     */
    public Path manifest(TaskBook.OpenTask task, Map<String, String> blobLinks) throws IOException {
        List<LedgerEntry> outcomes = task.outcomes();
        int total = task.task().instances();
        double gpuSeconds = Math.round(outcomes.stream().mapToDouble(ResultPublisher::gameSeconds).sum() * 1000) / 1000.0;
        Path dir = Files.createDirectories(workspace.roomDir(task.roomId()));
        Path file = dir.resolve("manifest.json");
        try (JsonGenerator json = mapper.getFactory().createGenerator(file.toFile(), JsonEncoding.UTF8)) {
            json.writeStartObject();
            json.writeStringField("room_id", task.roomId());
            json.writeStringField("game_name", task.task().gameName());
            json.writeObjectField("instances", ResultMessage.Counts.of(total, outcomes));
            json.writeNumberField("gpu_seconds", gpuSeconds);
            json.writeArrayFieldStart("outcomes");
            for (LedgerEntry o : outcomes) {
                json.writeStartObject();
                json.writeNumberField("instance", o.instance());
                json.writeNumberField("attempt", o.attempt() == null ? 0 : o.attempt());
                json.writeStringField("outcome", o.outcome().name());
                json.writeStringField("error", o.reason());
                json.writeStringField("error_source", o.errorSource() == null ? null : o.errorSource().name());
                json.writeStringField("started_at", o.startedAt() == null ? null : o.startedAt().toString());
                json.writeStringField("finished_at", o.finishedAt() == null ? null : o.finishedAt().toString());
                json.writeObjectFieldStart("artifacts");
                if (o.artifacts() != null) {
                    for (Map.Entry<String, String> artifact : o.artifacts().entrySet()) {
                        json.writeStringField(artifact.getKey(), link(blobLinks, artifact.getValue()));
                    }
                }
                json.writeEndObject();
                json.writeEndObject();
            }
            json.writeEndArray();
            json.writeEndObject();
        }
        return file;
    }
}
