package org.paia.dispatcher.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.support.PrometheusScrape;
import org.paia.dispatcher.support.ResultCollector;

/**
 * Issue 4's abortable class on the real {@code task-intake} route: a transaction that cannot commit
 * because the broker timed it out is aborted, its records stay invisible to {@code read_committed}
 * readers, and the task is processed again — one acceptance, one result — without a restart.
 * The dispatcher runs as its own JVM (the built jar) with {@code transaction.timeout.ms=2000} and a
 * Kafka client interceptor ({@link TransactionStall}) that stalls the intake producer for 6 s in the
 * middle of one task's transaction; the broker aborts timed-out transactions every 500 ms.
 */
class AbortableTransactionChaosIT {

    private static final String LEDGER = "paia.game.ledger";

    @Test
    void anIntakeTransactionThatTheBrokerTimesOutIsAbortedAndTheTaskProcessedAgain() throws Exception {
        try (ChaosCluster cluster = new ChaosCluster("txn-timeout")) {
            cluster.registerReplica("replica-a");
            String slowRoom = UUID.randomUUID().toString();
            Path interceptor = cluster.dir().resolve("interceptor");
            Path classFile = Path.of("org", "paia", "dispatcher", "chaos", "TransactionStall.class");
            Files.createDirectories(interceptor.resolve(classFile).getParent());
            Files.copy(Path.of("target", "test-classes").resolve(classFile), interceptor.resolve(classFile));
            DispatcherProcess dispatcher = DispatcherProcess.start(cluster, "replica-a", 1, interceptor,
                    List.of("-Dpaia.chaos.stall-key=" + slowRoom, "-Dpaia.chaos.stall-ms=6000"),
                    "--paia.kafka.client-properties.transaction.timeout.ms=2000",
                    "--paia.kafka.client-properties.interceptor.classes=" + TransactionStall.class.getName())
                    .awaitStarted();
            try (ResultCollector results = cluster.collectResults()) {
                List<String> rooms = new ArrayList<>(cluster.publishTasks(3));
                cluster.publishTask(slowRoom);
                rooms.add(slowRoom);
                rooms.addAll(cluster.publishTasks(3));

                await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
                        .until(() -> rooms.stream().allMatch(room -> !results.records(room).isEmpty()));
                // a late duplicate would arrive within a couple of scheduling/relist rounds
                await().pollDelay(Duration.ofSeconds(5)).until(() -> true);

                assertThat(dispatcher.logContains("[chaos] stalling the producer")).as("the stall happened").isTrue();
                Map<String, Long> perRoom = results.all().stream()
                        .collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting()));
                assertThat(perRoom).as("results per room").containsOnlyKeys(rooms).allSatisfy((room, n) -> assertThat(n).isOne());
                assertThat(rooms).allSatisfy(room ->
                        assertThat(results.json(room).get(0).path("outcome").asText()).isEqualTo("SUCCEEDED"));

                // The first acceptance was written and aborted: read_uncommitted sees both, read_committed one.
                List<String> uncommitted = acceptances(cluster, slowRoom, "read_uncommitted");
                List<String> committed = acceptances(cluster, slowRoom, "read_committed");
                System.out.println("[chaos] TASK_ACCEPTED records of the stalled task: " + uncommitted.size()
                        + " written, " + committed.size() + " committed");
                assertThat(uncommitted).hasSize(2);
                assertThat(committed).hasSize(1);

                PrometheusScrape metrics = dispatcher.scrape();
                double aborted = metrics.value("paia_transaction_retries_total", "writer", "intake", "class", "ABORTABLE");
                double intakeFailures = metrics.value("camel_exchanges_failed_total", "routeId", "task-intake");
                System.out.println("[chaos] intake transactions aborted (ABORTABLE): " + aborted
                        + ", task-intake exchanges failed and consumed again: " + intakeFailures);
                assertThat(aborted).isGreaterThanOrEqualTo(1);
                assertThat(intakeFailures).isGreaterThanOrEqualTo(1);
                assertThat(dispatcher.logContains("Aborted by the broker: transaction of paia-dispatcher-intake-replica-a"))
                        .isTrue();
                assertThat(dispatcher.logContains("(ABORTABLE)")).isTrue();
                assertThat(dispatcher.isAlive()).isTrue();
                assertThat(dispatcher.get("/actuator/health/liveness")).contains("\"UP\"");
            } finally {
                dispatcher.stop();
            }
        }
    }

    /** The TASK_ACCEPTED ledger records of one room, read from the start to the end at this isolation level. */
    private static List<String> acceptances(ChaosCluster cluster, String room, String isolation) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> found = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            List<TopicPartition> partitions = consumer.partitionsFor(LEDGER).stream()
                    .map(p -> new TopicPartition(LEDGER, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    if (room.equals(r.key()) && r.value().contains("TASK_ACCEPTED")) {
                        found.add(r.value());
                    }
                }
                return partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
            });
        }
        return found;
    }
}
