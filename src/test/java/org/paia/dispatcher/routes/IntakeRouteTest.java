package org.paia.dispatcher.routes;

import static org.assertj.core.api.Assertions.assertThat;
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
import org.paia.dispatcher.kafka.ConsumedOffset;

/**
 * {@code intake.yaml}: unmarshal → validate-task → duplicate choice → acceptance, or the doCatch's rejection;
 * either verdict goes out in one {@code paia-tx:intake} write with the consumed offset.
 */
class IntakeRouteTest extends RouteTestSupport {

    @BeforeEach
    void watchVerdicts() throws Exception {
        advise("task-intake", a -> a.weaveById("commit-verdict").before().to("mock:intake-verdicts"));
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
        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.topic()).isEqualTo(properties.getKafka().getLedgerTopic());
            assertThat(r.key()).isEqualTo(room);
            assertThat(new String(r.value(), StandardCharsets.UTF_8)).contains("TASK_ACCEPTED");
        });
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
}
