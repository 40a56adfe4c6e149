package org.paia.dispatcher.bench;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** The Kafka-only ceiling: consume → produce, one transaction (with its offset) per task. */
final class RawLoop {

    private RawLoop() {
    }

    /** Publishes {@code count} tasks to a fresh topic and runs the loop over them; returns results per second. */
    static double run(BenchCluster cluster, int count, int rep) throws Exception {
        String in = "bench.raw.in." + rep;
        String out = "bench.raw.out." + rep;
        cluster.createTopics(List.of(in, out));
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-raw-" + rep);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-raw-" + rep);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c);
             KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            consumer.subscribe(List.of(in));
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                String room = "raw-" + rep + "-" + i;
                cluster.publish(in, room, cluster.task(room, "\"sim_duration_ms\": 0", ""));
            }
            cluster.producer.flush();
            int done = 0;
            while (done < count) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
                    producer.beginTransaction();
                    producer.send(new ProducerRecord<>(out, record.key(), "{\"room_id\":\"" + record.key()
                            + "\",\"outcome\":\"SUCCEEDED\",\"size\":" + record.value().length() + "}"));
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
}
