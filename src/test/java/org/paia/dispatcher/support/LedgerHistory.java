package org.paia.dispatcher.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.Outcome;

/**
 * Months of ledger history as the dispatcher before issue 11 left it — every record of every completed
 * task and batch, never tombstoned — plus some open work, written fast (no transactions) to a ledger topic
 * of its own. Used by {@code LedgerHistoryIT} and by the bench's rebuild case.
 */
public final class LedgerHistory {

    /**
     * @param singles       completed single games (4 records each: accepted, launched, outcome, completed)
     * @param batches       completed batch runs of {@code batchInstances} (2 records per instance, plus 2)
     * @param openSingles   accepted games not launched yet
     * @param openBatchInstances instances of one open batch, half of them with an outcome
     * @param spread        completions are spread evenly over this much of the past
     */
    public record Shape(int singles, int batches, int batchInstances, int openSingles, int openBatchInstances,
                        Duration spread) {

        /** At least 1,000,000 records of completed work. */
        public static Shape million() {
            return new Shape(200_000, 10, 10_000, 20, 1_000, Duration.ofDays(100));
        }

        public long completedRecords() {
            return 4L * singles + batches * (2L * batchInstances + 2);
        }
    }

    /** What was written: records, and the rooms that completed within {@code window} of {@code now}. */
    public record Seeded(long records, long completedRecords, int roomsInWindow, int openRooms, String openBatch) {
    }

    private LedgerHistory() {
    }

    /** Creates {@code topic} (compacted, with {@code config}) with {@code partitions} and writes the history. */
    public static Seeded seed(String bootstrap, String topic, int partitions, Map<String, String> config,
                              ObjectMapper mapper, String accountUrl, Instant now, Duration window, Shape shape)
            throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1).configs(config))).all().get();
        }
        Properties producerConfig = new Properties();
        producerConfig.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        producerConfig.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producerConfig.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        producerConfig.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
        producerConfig.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        AtomicLong written = new AtomicLong();
        int inWindow = 0;
        String openBatch = "open-batch";
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig)) {
            Writer out = entry -> {
                producer.send(new ProducerRecord<>(topic, entry.key(), mapper.writeValueAsBytes(entry)));
                written.incrementAndGet();
            };
            long spreadMillis = shape.spread().toMillis();
            for (int i = 0; i < shape.singles(); i++) {
                String room = String.format("room-%07d", i);
                Instant done = clearOfTheEdge(now.minusMillis(spreadMillis - spreadMillis * i / shape.singles()), now, window);
                inWindow += done.isAfter(now.minus(window)) ? 1 : 0;
                completedTask(out, mapper, accountUrl, room, 1, done);
            }
            for (int b = 0; b < shape.batches(); b++) {
                String room = String.format("batch-%03d", b);
                Instant done = clearOfTheEdge(now.minusMillis(spreadMillis - spreadMillis * b / Math.max(1, shape.batches())),
                        now, window);
                inWindow += done.isAfter(now.minus(window)) ? 1 : 0;
                completedTask(out, mapper, accountUrl, room, shape.batchInstances(), done);
            }
            for (int i = 0; i < shape.openSingles(); i++) {
                out.write(LedgerEntry.accepted("open-" + i, data(mapper, accountUrl, "open-" + i, 1), now));
            }
            out.write(LedgerEntry.accepted(openBatch, data(mapper, accountUrl, openBatch, shape.openBatchInstances()), now));
            for (int i = 0; i < shape.openBatchInstances() / 2; i++) {
                out.write(LedgerEntry.launched(openBatch, i, 0, "p", now));
                out.write(outcome(openBatch, i, now));
            }
            producer.flush();
        }
        return new Seeded(written.get(), shape.completedRecords(), inWindow, shape.openSingles() + 1, openBatch);
    }

    /** Nothing completes within an hour of the window's edge, so which rooms are in it does not depend on when it is asked. */
    private static Instant clearOfTheEdge(Instant done, Instant now, Duration window) {
        Instant edge = now.minus(window);
        return Duration.between(done, edge).abs().compareTo(Duration.ofHours(1)) < 0 ? edge.minus(Duration.ofHours(2)) : done;
    }

    private interface Writer {
        void write(LedgerEntry entry) throws Exception;
    }

    private static void completedTask(Writer out, ObjectMapper mapper, String accountUrl, String room, int instances,
                                      Instant done) throws Exception {
        Instant accepted = done.minusSeconds(600);
        out.write(LedgerEntry.accepted(room, data(mapper, accountUrl, room, instances), accepted));
        for (int i = 0; i < instances; i++) {
            out.write(LedgerEntry.launched(room, i, 0, "paiagym-" + room + "-" + i + "-0", accepted));
            out.write(outcome(room, i, done));
        }
        out.write(LedgerEntry.completed(room, Outcome.SUCCEEDED, done));
    }

    private static LedgerEntry outcome(String room, int instance, Instant done) {
        String prefix = room + "/run-" + instance + "-0/";
        return LedgerEntry.outcome(room, instance, 0, "paiagym-" + room + "-" + instance + "-0", Outcome.SUCCEEDED, null,
                null, Map.of("video", prefix + "video.mp4", "result", prefix + "result.json", "log", prefix + "game.log"),
                null, done.minusSeconds(120), done);
    }

    private static ObjectNode data(ObjectMapper mapper, String accountUrl, String room, int instances) {
        ObjectNode data = mapper.createObjectNode();
        data.put("category", "3D").put("game_id", 7).put("game_name", "kart_3d").put("room_id", room);
        data.putObject("game_param").put("is_pickup", "true").put("pickup_map", "1").put("user_num", 1);
        data.putArray("plug_in_data");
        data.putArray("programs").addObject().put("url", accountUrl + "/user-102/kart_3d/code-855")
                .put("code_name", "kart3d_ppo_test");
        data.put("ws_uri", "ws://webservice/ws/game_server/room/" + room + "?token=t");
        if (instances > 1) {
            data.put("instances", instances);
        }
        return data;
    }

    /**
     * New work as the dispatcher writes it now: {@code tasks} single games accepted, launched, finished and
     * completed, the completion with its instance key's tombstone. A live ledger is written all the time; the
     * broker's cleaner drops tombstones (past {@code delete.retention.ms}) only when new records make it clean
     * the log again. Returns the rooms written.
     */
    public static List<String> traffic(String bootstrap, String topic, ObjectMapper mapper, String accountUrl, int tasks)
            throws Exception {
        Properties producerConfig = new Properties();
        producerConfig.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        producerConfig.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producerConfig.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        List<String> rooms = new java.util.ArrayList<>();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig)) {
            Writer out = entry -> producer.send(new ProducerRecord<>(topic, entry.key(), mapper.writeValueAsBytes(entry)));
            for (int i = 0; i < tasks; i++) {
                String room = "live-" + java.util.UUID.randomUUID();
                completedTask(out, mapper, accountUrl, room, 1, Instant.now());
                producer.send(new ProducerRecord<>(topic, LedgerEntry.instanceKey(room, 0), null));
                rooms.add(room);
            }
            producer.flush();
        }
        return rooms;
    }

    /** Records on the topic now, read {@code read_committed} from its beginning to its end (tombstones included). */
    public static long count(String bootstrap, String topic) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long count = 0;
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<String, byte[]> ignored : consumer.poll(Duration.ofMillis(500))) {
                    count++;
                }
            }
            return count;
        }
    }
}
