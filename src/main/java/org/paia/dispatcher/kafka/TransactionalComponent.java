package org.paia.dispatcher.kafka;

import java.util.Map;
import java.util.TreeMap;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.support.DefaultComponent;
import org.apache.camel.support.DefaultEndpoint;
import org.apache.camel.support.DefaultProducer;

/**
 * {@code paia-tx:<writer>}: the routes' one way to write to Kafka exactly once. Each exchange's records
 * are committed in one Kafka transaction by the named writer: {@code paia-tx:intake} (an
 * {@link org.paia.dispatcher.intake.IntakeBatch}: the verdicts on a polled batch of tasks and the offsets of all of them), {@code paia-tx:ledger} (ledger entries, tombstones and
 * other records such as the result message, applied to the scheduler's book once committed).
 *
 * <p>A component of our own because camel-kafka 4.18 cannot do either: it never sends the consumed offsets
 * to the transaction, and it closes its transactional producer for good after any KafkaException.
 * Writing through an endpoint keeps the write a visible step: it is in the route diagram, Hawtio's
 * endpoint list and the route and endpoint metrics.
 */
public class TransactionalComponent extends DefaultComponent {

    /** The URI scheme, also the component's bean name. */
    public static final String SCHEME = "paia-tx";

    /** What a writer does with an exchange: commit its body (and, for intake, its consumed offset) in one transaction. */
    @FunctionalInterface
    public interface Writer {
        void write(Exchange exchange) throws Exception;
    }

    private final Map<String, Writer> writers;

    public TransactionalComponent(Map<String, Writer> writers) {
        this.writers = new TreeMap<>(writers);
    }

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) {
        Writer writer = writers.get(remaining);
        if (writer == null) {
            throw new IllegalArgumentException(SCHEME + ":" + remaining + ": no such transactional writer; there are "
                    + writers.keySet().stream().map(w -> SCHEME + ":" + w).toList());
        }
        return new TransactionalEndpoint(uri, this, writer);
    }

    /** One writer as an endpoint; producer only. */
    static final class TransactionalEndpoint extends DefaultEndpoint {
        private final Writer writer;

        TransactionalEndpoint(String uri, TransactionalComponent component, Writer writer) {
            super(uri, component);
            this.writer = writer;
        }

        @Override
        public Producer createProducer() {
            return new DefaultProducer(this) {
                @Override
                public void process(Exchange exchange) throws Exception {
                    writer.write(exchange);
                }
            };
        }

        @Override
        public Consumer createConsumer(Processor processor) {
            throw new UnsupportedOperationException(getEndpointUri() + " only writes: use it in to:, not from:");
        }
    }
}
