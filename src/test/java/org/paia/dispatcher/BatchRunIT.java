package org.paia.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.azure.storage.blob.BlobClientBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watcher;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.support.DispatcherIT;
import org.paia.dispatcher.support.PodTracker;
import org.paia.dispatcher.support.ResultCollector;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Batch runs (SPEC §4, issue 5): capacity, fair shares, counts that never go backwards when pods
 * vanish, attempts used up — on the real broker, Azurite and the Kubernetes API server, with the
 * simulated node's knobs (game_param.sim_*). The test profile's capacity is 20 pods.
 */
class BatchRunIT extends DispatcherIT {

    private static final int CAPACITY = 20;
    private final ObjectMapper mapper = new ObjectMapper();

    @Autowired
    KubernetesClient kubernetes;
    @Autowired
    CamelContext camel;

    private JsonNode awaitResult(String room, Duration within) {
        await().atMost(within).pollInterval(Duration.ofMillis(200)).until(() -> !results().records(room).isEmpty());
        return resultsOf(room).get(0);
    }

    /** The manifest the result links to, read through its read-only link as a user would. */
    private JsonNode manifest(JsonNode result) throws Exception {
        String link = result.path("artifacts").path("manifest").asText();
        assertThat(link).as("manifest link").contains("manifest.json").contains("sig=");
        return mapper.readTree(new BlobClientBuilder().endpoint(link).buildClient().downloadContent().toBytes());
    }

    private static Map<Integer, JsonNode> byInstance(JsonNode manifest) {
        Map<Integer, JsonNode> outcomes = new HashMap<>();
        for (JsonNode o : manifest.path("outcomes")) {
            assertThat(outcomes.put(o.path("instance").asInt(), o)).as("instance %s counted twice", o.path("instance"))
                    .isNull();
        }
        return outcomes;
    }

    @Test
    void aThousandInstancesNeverExceedTheCapacityAndEndInExactCounts() throws Exception {
        try (PodTracker pods = new PodTracker(kubernetes, properties.getKubernetes().getNamespace(), (a, p) -> { })) {
            String room = publishBatch("\"instances\": 1000, \"parallelism\": 50", "\"sim_duration_ms\": 100");
            JsonNode result = awaitResult(room, Duration.ofMinutes(8));

            assertThat(pods.maxAlive()).as("game pods alive at once, sampled on every pod event")
                    .isLessThanOrEqualTo(CAPACITY).isGreaterThan(1);
            assertThat(result.path("outcome").asText()).isEqualTo("SUCCEEDED");
            assertThat(result.path("instances").path("total").asInt()).isEqualTo(1000);
            assertThat(result.path("instances").path("succeeded").asInt()).isEqualTo(1000);
            assertThat(result.path("instances").path("failed").asInt()).isZero();
            assertThat(result.path("gpu_seconds").asDouble()).isPositive();
            Map<Integer, JsonNode> outcomes = byInstance(manifest(result));
            assertThat(outcomes).hasSize(1000);
            assertThat(java.net.URLDecoder.decode(outcomes.get(999).path("artifacts").path("result").asText(),
                    java.nio.charset.StandardCharsets.UTF_8)).contains("run-999-0/result.json");

            Set<String> created = new HashSet<>();
            pods.events().stream().filter(e -> room.equals(e.room()) && e.action() == Watcher.Action.ADDED)
                    .forEach(e -> assertThat(created.add(e.pod())).as("pod %s created twice", e.pod()).isTrue());
            assertThat(created).as("one pod per instance: no pod for an instance with an outcome").hasSize(1000);
            assertOneResult(room);
        }
    }

    @Test
    void podsDeletedMidGameAreRetriedAndNoInstanceIsCountedTwice() throws Exception {
        Map<String, Integer> deleted = new ConcurrentHashMap<>();
        ScheduledExecutorService scaleDown = Executors.newSingleThreadScheduledExecutor();
        Random random = new Random(42);
        Set<String> room = ConcurrentHashMap.newKeySet();
        try (PodTracker pods = new PodTracker(kubernetes, properties.getKubernetes().getNamespace(), (action, pod) -> {
            String name = pod.getMetadata().getName();
            boolean running = pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
            boolean ours = room.contains(pod.getMetadata().getAnnotations().get(PodNames.ROOM_ANNOTATION));
            // A node scale-down: 30 % of running pods vanish at a random moment of their game.
            if (ours && running && action == Watcher.Action.MODIFIED && pod.getMetadata().getDeletionTimestamp() == null
                    && !deleted.containsKey(name) && random.nextDouble() < 0.3) {
                deleted.put(name, Integer.parseInt(pod.getMetadata().getLabels().get(PodNames.INSTANCE_LABEL)));
                scaleDown.schedule(() -> kubernetes.pods().inNamespace(pod.getMetadata().getNamespace())
                        .withName(name).delete(), random.nextInt(200), TimeUnit.MILLISECONDS);
            }
        })) {
            String id = publishBatch("\"instances\": 200, \"parallelism\": 20, \"max_attempts\": 10",
                    "\"sim_duration_ms\": 1000");
            room.add(id);
            JsonNode result = awaitResult(id, Duration.ofMinutes(5));

            Set<Integer> lostInstances = new HashSet<>(deleted.values());
            assertThat(deleted).as("pods deleted by the simulated scale-down").hasSizeGreaterThan(20);
            assertThat(result.path("instances").path("total").asInt()).isEqualTo(200);
            assertThat(result.path("instances").path("succeeded").asInt()).isEqualTo(200);
            assertThat(result.path("instances").path("retried").asInt()).isEqualTo(lostInstances.size());
            Map<Integer, JsonNode> outcomes = byInstance(manifest(result));
            assertThat(outcomes).hasSize(200);
            deleted.forEach((pod, instance) -> {
                int lostAttempt = Integer.parseInt(pod.substring(pod.lastIndexOf('-') + 1));
                assertThat(outcomes.get(instance).path("attempt").asInt())
                        .as("instance %s was recorded by a later attempt than its lost pod %s", instance, pod)
                        .isGreaterThan(lostAttempt);
            });
            assertOneResult(id);
        } finally {
            scaleDown.shutdownNow();
        }
    }

    @Test
    void aSingleGamePublishedBehindALargeBatchTakesOneOfTheNextFreeSlots() throws Exception {
        try (PodTracker pods = new PodTracker(kubernetes, properties.getKubernetes().getNamespace(), (a, p) -> { });
             ResultCollector ledger = new ResultCollector(properties.getKafka().getBootstrapServers(),
                     properties.getKafka().getLedgerTopic())) {
            String batch = publishBatch("\"instances\": 500", "\"sim_duration_ms\": 1000");
            await().atMost(Duration.ofSeconds(60)).until(() -> pods.events().stream()
                    .filter(e -> batch.equals(e.room()) && e.action() == Watcher.Action.ADDED).count() >= CAPACITY);
            String single = newRoom();
            publishWithProgram(single, "single-" + single, "single_player");
            awaitResult(single, Duration.ofSeconds(60));

            await().atMost(Duration.ofSeconds(10)).until(() -> !ledger.records(single).isEmpty());
            ConsumerRecord<String, byte[]> accepted = ledger.records(single).get(0);
            List<PodTracker.Event> events = pods.events();
            int singleIndex = indexOfCreation(events, single);
            int acceptedIndex = firstEventAfter(events, accepted.timestamp());
            long batchPodsInBetween = events.subList(Math.min(acceptedIndex, singleIndex), singleIndex).stream()
                    .filter(e -> batch.equals(e.room()) && e.action() == Watcher.Action.ADDED).count();
            // First come first served would launch the ~480 remaining batch instances first.
            assertThat(batchPodsInBetween).as("batch pods created after the single game was accepted, before its pod")
                    .isLessThanOrEqualTo(CAPACITY);
            JsonNode batchResult = awaitResult(batch, Duration.ofMinutes(5));
            assertThat(batchResult.path("instances").path("succeeded").asInt()).isEqualTo(500);
        }
    }

    private static int indexOfCreation(List<PodTracker.Event> events, String room) {
        for (int i = 0; i < events.size(); i++) {
            if (room.equals(events.get(i).room()) && events.get(i).action() == Watcher.Action.ADDED) {
                return i;
            }
        }
        throw new AssertionError("no pod created for " + room);
    }

    private static int firstEventAfter(List<PodTracker.Event> events, long epochMillis) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).seenAt() >= epochMillis) {
                return i;
            }
        }
        return events.size();
    }

    @Test
    void instancesOutOfAttemptsAreRecordedFailedAndTheTaskStillCompletes() throws Exception {
        String lost = publishBatch("\"instances\": 3, \"max_attempts\": 2",
                "\"sim_duration_ms\": 400, \"sim_lose_rate\": 1.0");
        String crashing = publishBatch("\"instances\": 3", "\"sim_duration_ms\": 100, \"sim_failure_rate\": 1.0");

        JsonNode result = awaitResult(lost, Duration.ofSeconds(90));
        assertThat(result.path("outcome").asText()).isEqualTo("FAILED");
        assertThat(result.path("instances").path("failed").asInt()).isEqualTo(3);
        assertThat(result.path("instances").path("retried").asInt()).isEqualTo(3);
        assertThat(result.path("error_source").asText()).isEqualTo("PLATFORM");
        assertThat(result.path("error").asText()).contains("lost 2 times").contains("max attempts 2");
        for (JsonNode o : manifest(result).path("outcomes")) {
            assertThat(o.path("outcome").asText()).isEqualTo("FAILED");
            assertThat(o.path("attempt").asInt()).isEqualTo(2);
        }
        for (int instance = 0; instance < 3; instance++) {
            for (int attempt = 0; attempt < 3; attempt++) {
                String pod = PodNames.podName(lost, instance, attempt);
                await().atMost(Duration.ofSeconds(10)).until(
                        () -> kubernetes.pods().inNamespace(properties.getKubernetes().getNamespace()).withName(pod)
                                .get() == null);
            }
        }

        JsonNode crashed = awaitResult(crashing, Duration.ofSeconds(60));
        assertThat(crashed.path("instances").path("failed").asInt()).isEqualTo(3);
        assertThat(crashed.path("instances").path("retried").asInt()).as("a game's own failure is not retried").isZero();
        assertThat(crashed.path("error_source").asText()).isEqualTo("USER_CODE");
        assertOneResult(lost);
        assertOneResult(crashing);
    }

    /** One result, and still one after the scheduler had time to publish a second (two relist passes). */
    private void assertOneResult(String room) {
        NotifyBuilder relisted = new NotifyBuilder(camel).fromRoute("pod-relist-tick").whenCompleted(2).create();
        assertThat(relisted.matches(30, TimeUnit.SECONDS)).isTrue();
        assertThat(resultsOf(room)).hasSize(1);
    }
}
