package org.paia.dispatcher.events;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.time.Instant;
import java.util.Map;
import org.paia.dispatcher.ledger.Outcome;

/**
 * One lifecycle event of a room on {@code paia.game.events} (docs/events.md), keyed by {@code room_id}. Task
 * events have no {@code instance}; instance events (STARTING, RUNNING, UPLOADING, an instance's FINISHED) name
 * the instance and its attempt. {@code progress} is the task's count at the moment the event was committed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record GameEvent(
        Type event,
        String roomId,
        Integer instance,
        Integer attempt,
        String pod,
        String pool,
        String priority,
        /* QUEUED: the task's place among the tasks of its pool waiting for a slot (1: next), and the instances waiting ahead of it */
        Integer position,
        Integer podsAhead,
        Integer podsActive,
        /* FINISHED */
        Outcome outcome,
        String reason,
        Map<String, String> artifacts,
        Progress progress,
        /* true: this repeats an event already sent, because the step it reports is done again (a takeover, a retry) */
        Boolean replay,
        Instant at) {

    /** What happened to the room (the order in which a room's events come). */
    public enum Type {
        ACCEPTED, QUEUED, STARTING, RUNNING, UPLOADING, FINISHED, CANCELLING, CANCEL_IGNORED
    }

    /** The task's instances and how many of them have an outcome. */
    public record Progress(int instances, int finished) {
    }

    public static GameEvent task(Type type, String roomId, Instant at) {
        return new GameEvent(type, roomId, null, null, null, null, null, null, null, null, null, null, null, null, null, at);
    }

    public static GameEvent instance(Type type, String roomId, int instance, int attempt, String pod, Instant at) {
        return new GameEvent(type, roomId, instance, attempt, pod, null, null, null, null, null, null, null, null, null,
                null, at);
    }

    public GameEvent withPlacement(String pool, String priority) {
        return new GameEvent(event, roomId, instance, attempt, pod, pool, priority, position, podsAhead, podsActive,
                outcome, reason, artifacts, progress, replay, at);
    }

    public GameEvent withQueue(int position, int podsAhead, int podsActive) {
        return new GameEvent(event, roomId, instance, attempt, pod, pool, priority, position, podsAhead, podsActive,
                outcome, reason, artifacts, progress, replay, at);
    }

    public GameEvent withOutcome(Outcome outcome, String reason, Map<String, String> artifacts) {
        return new GameEvent(event, roomId, instance, attempt, pod, pool, priority, position, podsAhead, podsActive,
                outcome, reason, artifacts, progress, replay, at);
    }

    public GameEvent withReason(String reason) {
        return new GameEvent(event, roomId, instance, attempt, pod, pool, priority, position, podsAhead, podsActive,
                outcome, reason, artifacts, progress, replay, at);
    }

    public GameEvent withProgress(Progress progress) {
        return new GameEvent(event, roomId, instance, attempt, pod, pool, priority, position, podsAhead, podsActive,
                outcome, reason, artifacts, progress, replay, at);
    }

    public GameEvent asReplay() {
        return new GameEvent(event, roomId, instance, attempt, pod, pool, priority, position, podsAhead, podsActive,
                outcome, reason, artifacts, progress, true, at);
    }

    @JsonIgnore
    public boolean isInstanceEvent() {
        return instance != null;
    }
}
