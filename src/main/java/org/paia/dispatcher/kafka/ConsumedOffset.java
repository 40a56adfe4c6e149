package org.paia.dispatcher.kafka;

import org.apache.camel.component.kafka.consumer.KafkaManualCommit;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The position of one consumed record plus the consumer's group metadata, captured on the
 * consumer thread, so that a transaction can commit "this record is done" together with what it
 * produced ({@code sendOffsetsToTransaction}).
 *
 * <p>{@link #commit()} does nothing on purpose: the offset is committed by the Kafka transaction,
 * never by Camel.
 */
public record ConsumedOffset(TopicPartition partition, long offset, ConsumerGroupMetadata groupMetadata)
        implements KafkaManualCommit {

    @Override
    public void commit() {
        // Committed inside the producer's transaction; see TransactionalWriter.
    }

    /** The offset to commit: the next record to read. */
    public long nextOffset() {
        return offset + 1;
    }
}
