package org.paia.dispatcher.chaos;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka client interceptor ({@code interceptor.classes}, set through
 * {@code paia.kafka.client-properties}) loaded into a dispatcher process: once per JVM, after the
 * broker acknowledges the record whose key is {@code -Dpaia.chaos.stall-key}, it stalls that
 * producer's I/O thread for {@code -Dpaia.chaos.stall-ms} — a producer that stops making progress
 * in the middle of a transaction, so that the broker's coordinator times the transaction out. Every
 * client built from the client properties loads it, consumers too, so it is also a (no-op) consumer
 * interceptor. Self-contained (no nested classes): the test copies this one class file.
 */
public class TransactionStall implements ProducerInterceptor<Object, Object>, ConsumerInterceptor<Object, Object> {

    private static final Logger LOG = LoggerFactory.getLogger(TransactionStall.class);
    private static final AtomicBoolean DONE = new AtomicBoolean();

    private final String key = System.getProperty("paia.chaos.stall-key", "");
    private final long stallMs = Long.getLong("paia.chaos.stall-ms", 0);
    private volatile boolean stallNextAck;

    @Override
    public ProducerRecord<Object, Object> onSend(ProducerRecord<Object, Object> record) {
        if (!key.isEmpty() && key.equals(record.key()) && DONE.compareAndSet(false, true)) {
            stallNextAck = true;
        }
        return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
        if (stallNextAck) {
            stallNextAck = false;
            LOG.warn("[chaos] stalling the producer for {} ms after {}-{}@{} was acknowledged", stallMs,
                    metadata.topic(), metadata.partition(), metadata.offset());
            try {
                Thread.sleep(stallMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public ConsumerRecords<Object, Object> onConsume(ConsumerRecords<Object, Object> records) {
        return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
    }

    @Override
    public void close() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
