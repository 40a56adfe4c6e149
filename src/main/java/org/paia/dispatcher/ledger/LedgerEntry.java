package org.paia.dispatcher.ledger;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Map;

/**
 * One record of the ledger topic, the dispatcher's only durable state. Keys: {@link #taskKey} for
 * task records, {@link #instanceKey} for instance records, so that compaction keeps the latest
 * record of each. Holds blob names, never SAS links or the task's token-bearing URI in logs.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record LedgerEntry(
        Type type,
        String roomId,
        Integer instance,
        Integer attempt,
        /* TASK_ACCEPTED: the task's data object as received. */
        ObjectNode task,
        String pod,
        /* INSTANCE_OUTCOME, TASK_COMPLETED */
        Outcome outcome,
        String reason,
        Map<String, String> artifacts,
        JsonNode result,
        Instant startedAt,
        Instant finishedAt,
        Instant at,
        /* INSTANCE_OUTCOME of a failure: whose fault it is */
        FailureSource errorSource) {

    /**
     * Task records (key: the room) and instance records (key: room/instance). The instance records of one attempt
     * follow its run: launched, running (its pod was seen running), uploading (its pod ended, its artifacts are
     * being uploaded), outcome; each carries the attempt, so compaction may keep any of them.
     */
    public enum Type {
        TASK_ACCEPTED(0), INSTANCE_LAUNCHED(1), INSTANCE_OUTCOME(4), TASK_COMPLETED(0), INSTANCE_RUNNING(2),
        INSTANCE_UPLOADING(3),
        /** A {@code cancel_cmd} for an open task (key: {@link #cancelKey}); {@code reason} is the sender's. */
        CANCEL_REQUESTED(0);

        private final int stage;

        Type(int stage) {
            this.stage = stage;
        }

        /** How far an attempt's run had come when this instance record was written (0: a task record). */
        public int stage() {
            return stage;
        }
    }

    public static String taskKey(String roomId) {
        return roomId;
    }

    public static String instanceKey(String roomId, int instance) {
        return roomId + "/" + instance;
    }

    /** The key of a room's cancel request: beside its task key, so that compaction keeps both until the completion. */
    public static String cancelKey(String roomId) {
        return roomId + "/cancel";
    }

    public String key() {
        if (type == Type.CANCEL_REQUESTED) {
            return cancelKey(roomId);
        }
        return instance == null ? taskKey(roomId) : instanceKey(roomId, instance);
    }

    public static LedgerEntry cancelRequested(String roomId, String reason, Instant at) {
        return new LedgerEntry(Type.CANCEL_REQUESTED, roomId, null, null, null, null, null, reason, null, null, null, null,
                at, null);
    }

    public static LedgerEntry accepted(String roomId, ObjectNode task, Instant at) {
        return new LedgerEntry(Type.TASK_ACCEPTED, roomId, null, null, task, null, null, null, null, null, null, null, at,
                null);
    }

    public static LedgerEntry launched(String roomId, int instance, int attempt, String pod, Instant at) {
        return new LedgerEntry(Type.INSTANCE_LAUNCHED, roomId, instance, attempt, null, pod, null, null, null, null, null, null,
                at, null);
    }

    /** The attempt's pod was seen running ({@code stage} RUNNING) or ended, its artifacts being uploaded (UPLOADING). */
    public static LedgerEntry stage(Type type, String roomId, int instance, int attempt, String pod, Instant at) {
        if (type != Type.INSTANCE_RUNNING && type != Type.INSTANCE_UPLOADING) {
            throw new IllegalArgumentException("not a run stage: " + type);
        }
        return new LedgerEntry(type, roomId, instance, attempt, null, pod, null, null, null, null, null, null, at, null);
    }

    public static LedgerEntry outcome(String roomId, int instance, int attempt, String pod, Outcome outcome, String reason,
                                      FailureSource source, Map<String, String> artifacts, JsonNode result,
                                      Instant startedAt, Instant finishedAt) {
        return new LedgerEntry(Type.INSTANCE_OUTCOME, roomId, instance, attempt, null, pod, outcome, reason, artifacts,
                result, startedAt, finishedAt, finishedAt, source);
    }

    public static LedgerEntry completed(String roomId, Outcome outcome, Instant at) {
        return new LedgerEntry(Type.TASK_COMPLETED, roomId, null, null, null, null, outcome, null, null, null, null, null, at,
                null);
    }
}
