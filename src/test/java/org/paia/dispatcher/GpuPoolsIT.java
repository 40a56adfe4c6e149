package org.paia.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.client.Watcher;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.support.DispatcherIT;
import org.paia.dispatcher.support.PodTracker;
import org.paia.dispatcher.support.PrometheusScrape;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * GPU pools (issue 14, point 4) on the real broker, Azurite and Kubernetes API server. The test profile
 * configures two pools: {@code default} (20 pods, where every other test runs) and {@code gpu-a} (one pod,
 * node selector {@code paia.io/gpu-type=a10} and a toleration of that taint).
 */
class GpuPoolsIT extends DispatcherIT {

    private static final Toleration GPU_A_TOLERATION = new TolerationBuilder().withKey("paia.io/gpu-type")
            .withOperator("Equal").withValue("a10").withEffect("NoSchedule").build();

    @LocalServerPort
    int port;

    @Test
    void aTaskForAPoolThatIsNotConfiguredIsRejectedNamingThePool() throws Exception {
        String room = newRoom();
        publish(room, batchTask(room, "pool-" + room, "\"pool\": \"h100\"", "\"sim_duration_ms\": 100"));

        JsonNode result = awaitResult(room);
        assertThat(result.path("outcome").asText()).isEqualTo("REJECTED");
        assertThat(result.path("error_source").asText()).isEqualTo("INPUT");
        assertThat(result.path("error").asText())
                .isEqualTo("unknown pool 'data.pool'=\"h100\" is not configured (configured: [default, gpu-a])");
        await().atMost(Duration.ofSeconds(10)).until(() -> !deadLetters().records(room).isEmpty());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(PrometheusScrape.of(port)
                .value("paia_tasks_rejected_total", "reason_class", "unknown_pool")).isGreaterThanOrEqualTo(1));
    }

    // gpu-a takes one pod: while the first instance of a two-instance gpu-a task runs (its game lasts 8 s), the
    // second waits for that slot, and a task of the default pool published meanwhile runs to its end.
    @Test
    void aPodOfAPoolCarriesItsPlacementAndAFullPoolDoesNotHoldBackAnother() throws Exception {
        Map<String, Pod> firstPodOfRoom = new ConcurrentHashMap<>();
        try (PodTracker pods = new PodTracker(testKubernetes(), properties.getKubernetes().getNamespace(),
                (action, pod) -> {
                    Map<String, String> annotations = pod.getMetadata().getAnnotations();
                    String room = annotations == null ? null : annotations.get(PodNames.ROOM_ANNOTATION);
                    if (action == Watcher.Action.ADDED && room != null) {
                        firstPodOfRoom.putIfAbsent(room, pod);
                    }
                })) {
            String pooled = publishBatch("\"instances\": 2, \"pool\": \"gpu-a\"", "\"sim_duration_ms\": 8000");
            await().atMost(Duration.ofSeconds(30)).until(() -> firstPodOfRoom.containsKey(pooled));
            assertThat(PrometheusScrape.of(port).value("paia_pool_capacity", "pool", "gpu-a")).isEqualTo(1);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                PrometheusScrape scrape = PrometheusScrape.of(port);
                assertThat(scrape.value("paia_pool_active_pods", "pool", "gpu-a")).isEqualTo(1);
                assertThat(scrape.value("paia_pool_waiting_instances", "pool", "gpu-a")).isEqualTo(1);
            });

            Pod gpuA = firstPodOfRoom.get(pooled);
            assertThat(gpuA.getMetadata().getLabels()).containsEntry(PodNames.POOL_LABEL, "gpu-a");
            assertThat(gpuA.getSpec().getNodeSelector()).as("the pool's selector on top of the template's")
                    .containsEntry("paia.io/gpu-type", "a10").containsEntry("nvidia.com/gpu.present", "true");
            assertThat(gpuA.getSpec().getTolerations()).contains(GPU_A_TOLERATION);

            String other = newRoom();
            publishWithProgram(other, "pool-default-" + other, "default_pool_player");
            JsonNode otherResult = awaitResult(other);
            assertThat(otherResult.path("outcome").asText()).isEqualTo("SUCCEEDED");
            assertThat(resultsOf(pooled)).as("the gpu-a task is still running its first instance").isEmpty();
            assertThat(pods.events()).as("gpu-a is full: its second instance has no pod yet")
                    .filteredOn(e -> pooled.equals(e.room()) && e.action() == Watcher.Action.ADDED).hasSize(1);
            Pod inDefault = firstPodOfRoom.get(other);
            assertThat(inDefault.getMetadata().getLabels()).containsEntry(PodNames.POOL_LABEL, "default");
            assertThat(inDefault.getSpec().getNodeSelector()).doesNotContainKey("paia.io/gpu-type");
            assertThat(inDefault.getSpec().getTolerations()).doesNotContain(GPU_A_TOLERATION);

            JsonNode pooledResult = awaitResult(pooled);
            assertThat(pooledResult.path("outcome").asText()).isEqualTo("SUCCEEDED");
            assertThat(pooledResult.path("instances").path("succeeded").asInt()).isEqualTo(2);
            assertThat(pods.events()).filteredOn(e -> pooled.equals(e.room()) && e.action() == Watcher.Action.ADDED)
                    .hasSize(2);
        }
    }
}
