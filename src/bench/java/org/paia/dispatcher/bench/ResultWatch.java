package org.paia.dispatcher.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads a result topic (read_committed) from its end, noting when each room's result arrived. */
final class ResultWatch implements AutoCloseable {

    record Result(long nanos, JsonNode json) {
    }

    private final Map<String, Result> results = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private final ObjectMapper mapper = new ObjectMapper();

    ResultWatch(String bootstrap, String topic) throws InterruptedException {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        java.util.concurrent.CountDownLatch positioned = new java.util.concurrent.CountDownLatch(1);
        thread = new Thread(() -> {
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
                List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                        .map(p -> new TopicPartition(topic, p.partition())).toList();
                consumer.assign(partitions);
                consumer.seekToEnd(partitions);
                partitions.forEach(consumer::position);
                positioned.countDown();
                while (running) {
                    for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
                        long now = System.nanoTime();
                        try {
                            results.putIfAbsent(record.key(), new Result(now, mapper.readTree(record.value())));
                        } catch (Exception e) {
                            results.putIfAbsent(record.key(), new Result(now, null));
                        }
                    }
                }
            }
        }, "results-" + topic);
        thread.setDaemon(true);
        thread.start();
        if (!positioned.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("cannot read " + topic);
        }
    }

    /** Waits until every room has a result; returns the latest arrival time (nanoTime). */
    long awaitAll(Collection<String> rooms, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!results.keySet().containsAll(rooms)) {
            if (System.nanoTime() > deadline) {
                long missing = rooms.stream().filter(r -> !results.containsKey(r)).count();
                throw new IllegalStateException(missing + " of " + rooms.size() + " results missing after " + timeout);
            }
            Thread.sleep(20); // polling a map filled by the consumer thread
        }
        return rooms.stream().mapToLong(r -> results.get(r).nanos).max().orElseThrow();
    }

    Result get(String room) {
        return results.get(room);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5000);
    }
}
