package org.paia.dispatcher.task;

/**
 * A task that can never succeed however often it is retried: it is answered with a
 * {@code REJECTED} result and a dead-letter copy, never redelivered.
 */
public class TaskRejectedException extends RuntimeException {

    private final String roomId;

    public TaskRejectedException(String reason, String roomId) {
        super(reason);
        this.roomId = roomId;
    }

    /** The room id when the message had a readable one, else null. */
    public String roomId() {
        return roomId;
    }
}
