package org.paia.dispatcher.bench;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The Kafka-only ceiling: consume → produce, with the offsets in the transaction; one transaction per task,
 * or (batched) one per poll, as Kafka Streams' exactly-once commits.
 */
final class RawLoop {

    private RawLoop() {
    }

    /** Publishes {@code count} tasks to a fresh topic and runs the loop over them; returns results per second. */
    static double run(BenchCluster cluster, int count, int rep) throws Exception {
        return run(cluster, count, "bench.raw." + rep, false);
    }

    /**
     * Publishes {@code count} tasks to fresh topics named after {@code name} and runs the loop over them
     * (max.poll.records 500, the intake's); returns results per second.
     */
    static double run(BenchCluster cluster, int count, String name, boolean batched) throws Exception {
        String in = name + ".in";
        String out = name + ".out";
        cluster.createTopics(List.of(in, out));
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, name);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c);
             KafkaProducer<String, String> producer = BenchCluster.transactionalProducer(cluster.bootstrapServers(), name)) {
            consumer.subscribe(List.of(in));
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                String room = name + "-" + i;
                cluster.publish(in, room, cluster.task(room, "\"sim_duration_ms\": 0", ""));
            }
            cluster.producer.flush();
            int done = 0;
            while (done < count) {
                ConsumerRecords<String, String> polled = consumer.poll(Duration.ofMillis(100));
                if (batched && !polled.isEmpty()) {
                    producer.beginTransaction();
                    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                    for (ConsumerRecord<String, String> record : polled) {
                        producer.send(result(out, record));
                        offsets.put(new TopicPartition(record.topic(), record.partition()),
                                new OffsetAndMetadata(record.offset() + 1));
                        done++;
                    }
                    producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                    producer.commitTransaction();
                }
                for (ConsumerRecord<String, String> record : batched ? List.<ConsumerRecord<String, String>>of() : polled) {
                    producer.beginTransaction();
                    producer.send(result(out, record));
                    producer.sendOffsetsToTransaction(Map.of(new TopicPartition(record.topic(), record.partition()),
                            new OffsetAndMetadata(record.offset() + 1)), consumer.groupMetadata());
                    producer.commitTransaction();
                    done++;
                }
                if (System.nanoTime() - start > Duration.ofMinutes(5).toNanos()) {
                    throw new IllegalStateException("raw loop: only " + done + " of " + count + " in 5 min");
                }
            }
            return count / ((System.nanoTime() - start) / 1e9);
        }
    }

    private static ProducerRecord<String, String> result(String topic, ConsumerRecord<String, String> task) {
        return new ProducerRecord<>(topic, task.key(), "{\"room_id\":\"" + task.key()
                + "\",\"outcome\":\"SUCCEEDED\",\"size\":" + task.value().length() + "}");
    }
}
