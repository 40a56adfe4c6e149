package org.paia.dispatcher.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a topic from the beginning with {@code read_committed}, as the web service would, and keeps
 * every record by key — so a test can see a second result for a room, not only the first.
 */
public final class ResultCollector implements AutoCloseable {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Map<String, List<ConsumerRecord<String, byte[]>>> byKey = new ConcurrentHashMap<>();
    private final List<ConsumerRecord<String, byte[]>> all = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    public ResultCollector(String bootstrapServers, String topic) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config);
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        thread = new Thread(() -> {
            try (consumer) {
                while (running) {
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                        all.add(record);
                        if (record.key() != null) {
                            byKey.computeIfAbsent(record.key(), k -> new CopyOnWriteArrayList<>()).add(record);
                        }
                    }
                }
            }
        }, "test-collector-" + topic);
        thread.setDaemon(true);
        thread.start();
    }

    public List<ConsumerRecord<String, byte[]>> records(String key) {
        return byKey.getOrDefault(key, List.of());
    }

    public List<ConsumerRecord<String, byte[]>> all() {
        return List.copyOf(all);
    }

    public List<JsonNode> json(String key) {
        return records(key).stream().map(r -> parse(r.value())).toList();
    }

    public static JsonNode parse(byte[] value) {
        try {
            return MAPPER.readTree(value);
        } catch (java.io.IOException e) {
            throw new AssertionError("not JSON: " + new String(value, java.nio.charset.StandardCharsets.UTF_8), e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5000);
    }
}
