package org.paia.dispatcher.ledger;

/** How a game instance, and so a task, ended; the {@code outcome} field of the result message. */
public enum Outcome {
    SUCCEEDED, FAILED, REJECTED, TIMED_OUT,
    /** Stopped by a {@code cancel_cmd}: a run cut short or never started; a task with such a run. */
    CANCELLED
}
