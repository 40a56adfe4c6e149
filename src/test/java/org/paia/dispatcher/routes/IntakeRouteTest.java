package org.paia.dispatcher.routes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.errors.TransactionAbortedException;
import org.paia.dispatcher.intake.IntakeBatch;
import org.paia.dispatcher.kafka.ConsumedOffset;
import org.paia.dispatcher.support.ResultCollector;

/**
 * {@code intake.yaml}: a polled batch, split; each task: unmarshal → validate-task → duplicate choice →
 * acceptance, or the doCatch's rejection; every verdict of the batch goes out in one {@code paia-tx:intake}
 * write with every consumed offset.
 */
class IntakeRouteTest extends RouteTestSupport {

    /** Batches still to fail at the commit step, as an aborted transaction fails it. */
    private static final AtomicInteger ABORT_NEXT = new AtomicInteger();

    @BeforeEach
    void watchVerdicts() throws Exception {
        advise("task-intake", a -> {
            a.weaveById("add-verdict").before().to("mock:intake-verdicts");
            a.weaveById("commit-verdicts").before().to("mock:intake-batches").process(exchange -> {
                if (ABORT_NEXT.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    throw new TransactionAbortedException("injected: the batch's transaction was aborted");
                }
            });
        });
    }

    /**
     * Publishes the tasks to one partition while the intake is stopped, so that they are read in one poll,
     * as one batch.
     */
    private void publishAsOneBatch(String... keysAndTasks) throws Exception {
        camel.getRouteController().stopRoute("task-intake");
        try {
            for (int i = 0; i < keysAndTasks.length; i += 2) {
                publish(0, keysAndTasks[i], keysAndTasks[i + 1].getBytes(StandardCharsets.UTF_8));
            }
        } finally {
            camel.getRouteController().startRoute("task-intake");
        }
    }

    /** The committed-or-tried batches that hold a verdict on {@code room}. */
    private List<IntakeBatch> batchesWith(String room) {
        return mock("intake-batches").getExchanges().stream().map(e -> e.getMessage().getBody(IntakeBatch.class))
                .filter(b -> b.verdicts().stream().anyMatch(v -> room.equals(v.room()))).toList();
    }

    /** The verdict the route handed to paia-tx:intake for the Kafka key, once it is there. */
    private Exchange verdictFor(String key) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> mock("intake-verdicts").getExchanges().stream()
                .filter(e -> key.equals(e.getMessage().getHeader(KafkaConstants.KEY))).findFirst(), Optional::isPresent).get();
    }

    @SuppressWarnings("unchecked")
    private static List<ProducerRecord<String, byte[]>> records(Exchange verdict) {
        return verdict.getMessage().getBody(List.class);
    }

    @Test
    void aValidTaskIsAcceptedOnTheLedgerAndItsOffsetGoesIntoTheSameTransaction() throws Exception {
        String room = newRoom();
        NotifyBuilder committed = new NotifyBuilder(camel).fromRoute("task-intake").whenCompleted(1).create();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");

        Exchange verdict = verdictFor(room);
        List<ProducerRecord<String, byte[]>> records = records(verdict);
        assertThat(records).hasSize(3);
        assertThat(records.get(0)).satisfies(r -> {
            assertThat(r.topic()).isEqualTo(properties.getKafka().getLedgerTopic());
            assertThat(r.key()).isEqualTo(room);
            assertThat(new String(r.value(), StandardCharsets.UTF_8)).contains("TASK_ACCEPTED");
        });
        // Its ACCEPTED and QUEUED events go in the same transaction.
        assertThat(records.subList(1, 3)).allSatisfy(r -> {
            assertThat(r.topic()).isEqualTo(properties.getKafka().getEventsTopic());
            assertThat(r.key()).isEqualTo(room);
        });
        assertThat(new String(records.get(1).value(), StandardCharsets.UTF_8)).contains("\"event\":\"ACCEPTED\"");
        assertThat(new String(records.get(2).value(), StandardCharsets.UTF_8)).contains("\"event\":\"QUEUED\"");
        ConsumedOffset offset = verdict.getMessage().getHeader(KafkaConstants.MANUAL_COMMIT, ConsumedOffset.class);
        assertThat(offset.partition().topic()).isEqualTo(properties.getKafka().getTaskTopic());
        assertThat(routeDone(committed, 30)).isTrue();

        // The group's committed offset moved past the task: by the transaction, since Camel commits nothing.
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                properties.getKafka().getBootstrapServers()))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                OffsetAndMetadata at = admin.listConsumerGroupOffsets(properties.getKafka().getGroupId())
                        .partitionsToOffsetAndMetadata().get().get(offset.partition());
                return at != null && at.offset() >= offset.nextOffset();
            });
        }
        assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");
    }

    @Test
    void malformedJsonIsCaughtAndRejectedWithItsOriginalBytesOnTheDeadLetterTopic() {
        String key = "malformed-" + newRoom();
        byte[] raw = "{\"type\": \"game_cmd\", \"data\": {".getBytes(StandardCharsets.UTF_8);
        publish(key, raw);

        List<ProducerRecord<String, byte[]>> records = records(verdictFor(key));
        assertThat(records).extracting(ProducerRecord::topic)
                .containsExactly(properties.getKafka().getResultTopic(), properties.getKafka().getDeadLetterTopic());
        await().atMost(Duration.ofSeconds(30)).until(() -> !deadLetters().records(key).isEmpty());
        assertThat(deadLetters().records(key).get(0).value()).isEqualTo(raw);
        await().atMost(Duration.ofSeconds(30)).until(() -> !results().records(key).isEmpty());
        JsonNode rejected = results().json(key).get(0);
        assertThat(rejected.path("outcome").asText()).isEqualTo("REJECTED");
        assertThat(rejected.path("error").asText()).startsWith("malformed JSON");
    }

    @Test
    void anInvalidTaskIsRejectedByTheValidationStepNamingTheField() throws Exception {
        String room = newRoom();
        publish(room, seedTask(room, "user-102/x", "kart3d_ppo_test").replace("\"game_id\": 7", "\"game_id\": \"seven\""));

        assertThat(records(verdictFor(room))).extracting(ProducerRecord::topic)
                .containsExactly(properties.getKafka().getResultTopic(), properties.getKafka().getDeadLetterTopic());
        JsonNode rejected = awaitResult(room);
        assertThat(rejected.path("outcome").asText()).isEqualTo("REJECTED");
        assertThat(rejected.path("error").asText()).contains("game_id");
    }

    @Test
    void aSecondTaskForTheSameRoomTakesTheDuplicateBranch() throws Exception {
        String room = newRoom();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");
        assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");

        publish(room, seedTask(room, "user-102/kart_3d/code-" + room, "kart3d_ppo_test"));
        await().atMost(Duration.ofSeconds(30)).until(() -> resultsOf(room).size() == 2);
        JsonNode duplicate = resultsOf(room).get(1);
        assertThat(duplicate.path("outcome").asText()).isEqualTo("REJECTED");
        assertThat(duplicate.path("error").asText()).contains("duplicate task");
        assertThat(mock("intake-verdicts").getExchanges().stream()
                .filter(e -> room.equals(e.getMessage().getHeader(KafkaConstants.KEY)))).hasSize(2);
    }

    @Test
    void aPollsTasksAreJudgedOneByOneAndCommittedTogetherTheInvalidAndTheDuplicateIncluded() throws Exception {
        String first = newRoom();
        String second = newRoom();
        String malformed = "malformed-" + newRoom();
        uploadProgram("user-102", "kart_3d/code-" + first, "class MLPlay: pass\n");
        uploadProgram("user-102", "kart_3d/code-" + second, "class MLPlay: pass\n");
        publishAsOneBatch(first, seedTask(first, "user-102/kart_3d/code-" + first, "kart3d_ppo_test"),
                malformed, "{\"type\": \"game_cmd\", \"data\": {",
                second, seedTask(second, "user-102/kart_3d/code-" + second, "kart3d_ppo_test"),
                first, seedTask(first, "user-102/kart_3d/code-" + first, "kart3d_ppo_test"));

        await().atMost(Duration.ofSeconds(30)).until(() -> !batchesWith(second).isEmpty());
        IntakeBatch batch = batchesWith(second).get(0);
        assertThat(batch.verdicts()).extracting(IntakeBatch.Verdict::verdict, IntakeBatch.Verdict::room)
                .containsExactly(tuple("accepted", first), tuple("rejected", null), tuple("accepted", second),
                        tuple("rejected", first));
        assertThat(batch.verdicts()).filteredOn(v -> "rejected".equals(v.verdict()))
                .extracting(IntakeBatch.Verdict::rejection).anySatisfy(r -> assertThat(r).startsWith("malformed JSON"))
                .anySatisfy(r -> assertThat(r).contains("duplicate task"));
        assertThat(batch.consumed()).hasSize(batch.size());

        // The one transaction committed every verdict: the first task runs, the duplicate and the malformed
        // one are answered, and nothing else.
        assertThat(awaitResult(second).path("outcome").asText()).isEqualTo("SUCCEEDED");
        await().atMost(Duration.ofSeconds(60)).until(() -> resultsOf(first).size() == 2);
        assertThat(resultsOf(first)).extracting(r -> r.path("outcome").asText())
                .containsExactlyInAnyOrder("SUCCEEDED", "REJECTED");
        assertThat(awaitResult(malformed).path("outcome").asText()).isEqualTo("REJECTED");
        assertThat(deadLetters().records(malformed)).hasSize(1);
    }

    @Test
    void anAbortedBatchIsReadAgainWholeAndEveryTaskGetsOneVerdict() throws Exception {
        String valid = newRoom();
        String invalid = newRoom();
        uploadProgram("user-102", "kart_3d/code-" + valid, "class MLPlay: pass\n");
        ABORT_NEXT.set(1);
        publishAsOneBatch(valid, seedTask(valid, "user-102/kart_3d/code-" + valid, "kart3d_ppo_test"),
                invalid, seedTask(invalid, "user-102/x", "kart3d_ppo_test").replace("\"game_id\": 7",
                        "\"game_id\": \"seven\""));

        // Tried twice: the aborted batch, then the whole batch read again from the last commit.
        await().atMost(Duration.ofSeconds(30)).until(() -> batchesWith(valid).size() == 2 && batchesWith(invalid).size() == 2);
        assertThat(ABORT_NEXT).hasValue(0);
        assertThat(awaitResult(valid).path("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(awaitResult(invalid).path("outcome").asText()).isEqualTo("REJECTED");
        // The redo's acceptance is on the ledger once (the aborted one never became visible); the game ran
        // after it, so a second acceptance would be there by now.
        try (ResultCollector ledger = new ResultCollector(properties.getKafka().getBootstrapServers(),
                properties.getKafka().getLedgerTopic())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> !ledger.records(valid).isEmpty());
            assertThat(ledger.records(valid)).filteredOn(r -> new String(r.value(), StandardCharsets.UTF_8)
                    .contains("TASK_ACCEPTED")).hasSize(1);
        }
        assertThat(resultsOf(valid)).hasSize(1);
        assertThat(resultsOf(invalid)).hasSize(1);
        assertThat(deadLetters().records(invalid)).hasSize(1);
    }
}
