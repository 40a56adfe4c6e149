package org.paia.dispatcher.kafka;

import org.apache.kafka.common.KafkaException;

/**
 * Our own transaction outlived {@code transaction.timeout.ms}: the broker's transaction coordinator
 * aborted it and bumped the producer epoch, so the Kafka client reports the next transactional call
 * as fenced. Nothing of the transaction is visible to {@code read_committed} readers; the producer is
 * recreated and the caller processes the record again (ABORTABLE, not FATAL).
 */
public class TransactionTimedOutException extends KafkaException {

    public TransactionTimedOutException(String message, Throwable cause) {
        super(message, cause);
    }
}
