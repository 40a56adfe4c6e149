package org.paia.dispatcher.failures;

/** The three error classes of the original design (seed 000), plus input that is simply invalid. */
public enum FailureClass {
    /** Timeouts, 5xx, 429, lost connections: repeat with exponential backoff, bounded. */
    RETRIABLE,
    /** The Kafka transaction must be aborted; rewind to the last committed offsets and process again. */
    ABORTABLE,
    /** Fenced, unauthorised, misconfigured: stop consuming, commit nothing, report unhealthy. */
    FATAL,
    /** The input can never succeed: answer it (REJECTED / FAILED), never retry. */
    INVALID
}
