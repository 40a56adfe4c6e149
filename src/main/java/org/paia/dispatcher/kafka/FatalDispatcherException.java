package org.paia.dispatcher.kafka;

/**
 * A failure no retry can mend (fenced producer, authorization, broken configuration): the replica
 * stops consuming, commits nothing more, and reports unhealthy so that Kubernetes restarts it.
 */
public class FatalDispatcherException extends RuntimeException {

    public FatalDispatcherException(String message, Throwable cause) {
        super(message, cause);
    }
}
