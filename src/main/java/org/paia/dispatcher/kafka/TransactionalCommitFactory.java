package org.paia.dispatcher.kafka;

import org.apache.camel.component.kafka.consumer.CommitManager;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;
import org.apache.camel.component.kafka.consumer.KafkaManualCommitFactory;

/**
 * Plugs offsets-in-transaction into camel-kafka's consumer ({@code kafkaManualCommitFactory=#...}).
 *
 * <p>Implementing the interface directly (not extending Camel's default factories) makes
 * camel-kafka pick its no-op commit manager, so Camel itself never commits an offset (4.18.0
 * commits after each partition with the default factories, CAMEL-23997). The group metadata is
 * read here because this runs on the consumer thread, the only thread allowed to touch the
 * consumer.
 */
public class TransactionalCommitFactory implements KafkaManualCommitFactory {

    @Override
    public KafkaManualCommit newInstance(CamelExchangePayload exchangePayload, KafkaRecordPayload recordPayload,
                                         CommitManager commitManager) {
        return new ConsumedOffset(recordPayload.partition, recordPayload.recordOffset,
                exchangePayload.consumer.groupMetadata());
    }
}
