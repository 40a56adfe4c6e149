package org.paia.dispatcher.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.support.DispatcherIT;
import org.paia.dispatcher.support.ResultCollector;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Read-process-write on the real broker: records and the consumed offset commit together or not at
 * all, an aborted transaction stays invisible to read_committed readers, the consumer rewinds to the
 * last committed offset and processes the record again, and a newer producer fences an older one.
 */
class TransactionalWriterIT extends DispatcherIT {

    private static final byte[] TOO_LARGE = new byte[2 * 1024 * 1024]; // over max.request.size: the send fails

    @Autowired
    CamelContext camel;

    private String in;
    private String out;
    private final List<TransactionalWriter> writers = new java.util.ArrayList<>();

    @BeforeEach
    void topics() throws Exception {
        in = "rpw-in-" + UUID.randomUUID();
        out = "rpw-out-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(in, 1, (short) 1), new NewTopic(out, 1, (short) 1))).all().get();
        }
    }

    @AfterEach
    void closeWriters() {
        writers.forEach(TransactionalWriter::close);
    }

    private String bootstrap() {
        return properties.getKafka().getBootstrapServers();
    }

    private TransactionalWriter writer(String id) {
        TransactionalWriter writer = new TransactionalWriter(bootstrap(), id, Map.of());
        writers.add(writer);
        return writer;
    }

    private KafkaConsumer<String, byte[]> consumer(String group) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(config);
    }

    private ProducerRecord<String, byte[]> record(String topic, String value) {
        return new ProducerRecord<>(topic, "k", value.getBytes(StandardCharsets.UTF_8));
    }

    private Map<TopicPartition, OffsetAndMetadata> committed(String group) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
            return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        }
    }

    @Test
    void abortedTransactionLeavesNoRecordAndNoOffsetThenACommitCarriesBoth() throws Exception {
        TransactionalWriter writer = writer("rpw-" + UUID.randomUUID());
        io.micrometer.core.instrument.simple.SimpleMeterRegistry metrics = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        writer.withMetrics(metrics, "test");
        writer.write(List.of(record(in, "task")));
        String group = "rpw-group-" + UUID.randomUUID();
        try (KafkaConsumer<String, byte[]> consumer = consumer(group)) {
            consumer.subscribe(List.of(in));
            ConsumerRecord<String, byte[]> task = null;
            while (task == null) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    task = r;
                }
            }
            ConsumedOffset consumed = new ConsumedOffset(new TopicPartition(in, task.partition()), task.offset(),
                    consumer.groupMetadata());

            assertThatThrownBy(() -> writer.write(List.of(record(out, "aborted"),
                    new ProducerRecord<>(out, "k", TOO_LARGE)), consumed)).isInstanceOf(KafkaException.class);
            assertThat(writer.fatalError()).isNull();
            assertThat(committed(group)).isEmpty();
            assertThat(metrics.get("paia.transaction.retries").tags("writer", "test", "class", "ABORTABLE").counter().count())
                    .isEqualTo(1);

            writer.write(List.of(record(out, "committed")), consumed);
        }

        try (ResultCollector output = new ResultCollector(bootstrap(), out)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> !output.records("k").isEmpty());
            // the committed record arrives after the aborted one in the log: had the aborted one been visible,
            // it would have been read first
            assertThat(output.records("k")).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                    .containsExactly("committed");
        }
        assertThat(committed(group)).containsEntry(new TopicPartition(in, 0), new OffsetAndMetadata(1));
    }

    // The reusable piece inside a Camel route, configured as task-intake is: the first attempt's
    // transaction aborts for real (an over-sized record), the consumer rewinds to the last committed
    // offset, and the record is processed again — one committed output, offsets advanced once.
    @Test
    void aRouteWhoseTransactionAbortsProcessesTheRecordAgain() throws Exception {
        TransactionalWriter writer = writer("rpw-route-" + UUID.randomUUID());
        String group = "rpw-route-group-" + UUID.randomUUID();
        Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
        String routeId = "rpw-test-" + UUID.randomUUID();
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("kafka:" + in + "?brokers=" + bootstrap() + "&groupId=" + group
                        + "&autoOffsetReset=earliest&autoCommitEnable=false&allowManualCommit=true"
                        + "&kafkaManualCommitFactory=#transactionalCommitFactory&isolationLevel=read_committed"
                        + "&pollOnError=RECONNECT&breakOnFirstError=true"
                        + "&valueDeserializer=org.apache.kafka.common.serialization.ByteArrayDeserializer")
                        .routeId(routeId)
                        .process((Exchange e) -> {
                            String value = new String(e.getIn().getBody(byte[].class), StandardCharsets.UTF_8);
                            ConsumedOffset consumed = e.getIn().getHeader(KafkaConstants.MANUAL_COMMIT, ConsumedOffset.class);
                            int attempt = attempts.computeIfAbsent(value, v -> new AtomicInteger()).incrementAndGet();
                            if (value.equals("task-2") && attempt == 1) {
                                writer.write(List.of(record(out, value + "-attempt-1"),
                                        new ProducerRecord<>(out, "k", TOO_LARGE)), consumed);
                            }
                            writer.write(List.of(record(out, value + "-attempt-" + attempt)), consumed);
                        });
            }
        });
        try {
            writer.write(List.of(record(in, "task-1"), record(in, "task-2"), record(in, "task-3")));

            try (ResultCollector output = new ResultCollector(bootstrap(), out)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> output.records("k").size() >= 3);
                await().pollDelay(Duration.ofSeconds(1)).until(() -> true);
                assertThat(output.records("k")).extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                        .containsExactly("task-1-attempt-1", "task-2-attempt-2", "task-3-attempt-1");
            }
            assertThat(attempts.get("task-2").get()).isEqualTo(2);
            assertThat(committed(group)).containsEntry(new TopicPartition(in, 0), new OffsetAndMetadata(3));
        } finally {
            camel.getRouteController().stopRoute(routeId);
            camel.removeRoute(routeId);
        }
    }

    @Test
    void aNewerProducerWithTheSameIdFencesTheOlderOneForGood() {
        String id = "rpw-fence-" + UUID.randomUUID();
        TransactionalWriter old = writer(id);
        old.write(List.of(record(out, "before")));

        writer(id).fence();

        assertThatThrownBy(() -> old.write(List.of(record(out, "late")))).isInstanceOf(FatalDispatcherException.class);
        assertThat(old.fatalError()).isNotNull();
        assertThatThrownBy(() -> old.write(List.of(record(out, "later")))).isInstanceOf(FatalDispatcherException.class);
    }

    // Issue 11, point 2: B schedules, A takes over (its fence fences B's producer while B writes nothing),
    // then B schedules again. B's fence must start a new producer: reusing the one A fenced failed B's
    // first write with ProducerFencedException, and B held the Lease doing nothing.
    @Test
    void aWriterThatFencesAgainAfterBeingFencedSilentlyWritesAgain() throws Exception {
        String id = "rpw-refence-" + UUID.randomUUID();
        TransactionalWriter b = writer(id);
        b.fence();
        b.write(List.of(record(out, "b first term")));

        TransactionalWriter a = writer(id);
        a.fence();
        a.write(List.of(record(out, "a")));

        b.fence(); // B leads again
        b.write(List.of(record(out, "b second term")));
        assertThat(b.fatalError()).isNull();
        assertThatThrownBy(() -> a.write(List.of(record(out, "a late")))).as("A is the stale one now")
                .isInstanceOf(FatalDispatcherException.class);

        try (KafkaConsumer<String, byte[]> consumer = consumer("rpw-refence-" + UUID.randomUUID())) {
            consumer.subscribe(List.of(out));
            List<String> values = new java.util.ArrayList<>();
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(new String(r.value(), StandardCharsets.UTF_8)));
                return values.size() >= 3;
            });
            assertThat(values).containsExactly("b first term", "a", "b second term");
        }
    }
}
