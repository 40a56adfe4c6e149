package org.paia.dispatcher.kafka;

import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;

/** The offset of the task record an intake exchange consumes, as {@link TransactionalCommitFactory} captured it. */
public final class IntakeOffsets {

    private IntakeOffsets() {
    }

    /** The consumed offset, which {@code paia-tx:intake} commits with the exchange's records. */
    public static ConsumedOffset consumed(Exchange exchange) {
        ConsumedOffset consumed = exchange.getMessage().getHeader(KafkaConstants.MANUAL_COMMIT, ConsumedOffset.class);
        if (consumed == null) {
            throw new IllegalStateException("paia-tx:intake writes each task's consumed offset with its verdict: the route "
                    + "must consume the task topic with kafkaManualCommitFactory=#transactionalCommitFactory");
        }
        return consumed;
    }
}
