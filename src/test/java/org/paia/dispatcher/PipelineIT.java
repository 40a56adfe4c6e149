package org.paia.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.ServiceStatus;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.support.DispatcherIT;
import org.springframework.beans.factory.annotation.Autowired;

/** The whole pipeline, task in → result out, against the real embedded servers. */
class PipelineIT extends DispatcherIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    KubernetesClient kubernetes;

    // the tests' own client, not the dispatcher's bean: RbacIT checks the dispatcher's calls only
    @BeforeEach
    void testClient() {
        kubernetes = testKubernetes();
    }

    @Autowired
    CamelContext camel;

    @Autowired
    org.paia.dispatcher.startup.WarmUp warmUp;

    /** Issue 13's cold start: every warm-up step ran against the real servers, and none left a trace there. */
    @Test
    void warmUpGoesThroughTheFirstTaskPathsWithoutASideEffect() {
        await().atMost(Duration.ofSeconds(60)).until(() -> !warmUp.steps().isEmpty());
        assertThat(warmUp.steps()).containsOnlyKeys("task parsing", "pod rendering", "Blob Storage", "Kubernetes");
        assertThat(warmUp.steps().values()).as("each step's time, none skipped").allMatch(v -> v.matches("\\d+ ms"));
        assertThat(kubernetes.pods().inNamespace(properties.getKubernetes().getNamespace()).list().getItems())
                .noneMatch(p -> p.getMetadata().getName().contains("warm-up"));
        assertThat(blobs.getBlobContainerClient("paia-warm-up").exists()).isFalse();
    }

    @Test
    void seedTaskSucceedsWithDownloadableArtifactsAndNoPodLeft() throws Exception {
        String room = newRoom();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");

        JsonNode result = awaitResult(room);

        String pod = PodNames.podName(room, 0, 0);
        assertThat(result.path("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(result.path("status").asText()).isEqualTo("Pod " + pod + " finished");
        assertThat(result.path("room_id").asText()).isEqualTo(room);
        assertThat(result.path("game_id").asLong()).isEqualTo(7);
        assertThat(result.path("instances").path("succeeded").asInt()).isEqualTo(1);
        assertThat(result.path("error").isNull()).isTrue();
        assertThat(result.path("error_source").isNull()).isTrue();
        assertThat(result.path("azure_storage_url")).hasSize(2);
        // the links download the real artifacts, read-only and scoped to one blob
        String video = result.path("artifacts").path("video").asText();
        String resultLink = result.path("artifacts").path("result").asText();
        // The component's downloadLink: a service SAS on one blob (sr=b), read only (sp=r), expiring (se=); the
        // blob's path comes percent-encoded (%2F), which Azure Storage decodes.
        assertThat(video).contains("sp=r&").contains("sr=b").contains("se=");
        assertThat(java.net.URLDecoder.decode(video.substring(0, video.indexOf('?')), StandardCharsets.UTF_8))
                .endsWith("/records/" + room + "/run-0-0/video.mp4");
        assertThat(download(video)).startsWith(new String(new byte[] {0, 0, 0, 0x18}, StandardCharsets.ISO_8859_1) + "ftyp");
        JsonNode uploadedResult = new com.fasterxml.jackson.databind.ObjectMapper().readTree(download(resultLink));
        assertThat(uploadedResult.path("players").get(0).path("code_name").asText()).isEqualTo("kart3d_ppo_test");
        assertThat(uploadedResult.path("players").get(0).path("found").asBoolean()).isTrue();
        assertThat(result.path("result")).isEqualTo(uploadedResult);
        assertThat(download(result.path("artifacts").path("log").asText())).contains("kart3d_ppo_test: loaded ml_play.py");

        await().atMost(Duration.ofSeconds(10))
                .until(() -> kubernetes.pods().inNamespace("paia").withName(pod).get() == null);
        // Exactly one result, also after two more relist passes have seen everything again.
        NotifyBuilder relisted = new NotifyBuilder(camel).fromRoute("pod-relist-tick").whenCompleted(2).create();
        assertThat(relisted.matches(15, TimeUnit.SECONDS)).isTrue();
        assertThat(resultsOf(room)).hasSize(1);
    }

    @Test
    void crashingGameYieldsOneFailedResultWithTheReasonAndItsLog() throws Exception {
        String room = newRoom();
        publishWithProgram(room, "kart_3d/crash-" + room, "kart3d_crash");

        JsonNode result = awaitResult(room);

        assertThat(result.path("outcome").asText()).isEqualTo("FAILED");
        assertThat(result.path("error").asText()).isEqualTo("game exited with code 1 (Error)");
        assertThat(result.path("error_source").asText()).isEqualTo("USER_CODE");
        assertThat(result.path("instances").path("failed").asInt()).isEqualTo(1);
        assertThat(download(result.path("artifacts").path("log").asText())).contains("simulated crash of kart3d_crash");
        assertThat(result.path("azure_storage_url")).isEmpty();
    }

    @Test
    void missingProgramFailsTheTaskWithoutAPod() throws Exception {
        String room = newRoom();
        publish(room, seedTask(room, "user-102/kart_3d/does-not-exist-" + room, "ghost"));

        JsonNode result = awaitResult(room);

        assertThat(result.path("outcome").asText()).isEqualTo("FAILED");
        assertThat(result.path("error").asText()).contains("program 'ghost' not found");
        assertThat(result.path("error_source").asText()).isEqualTo("INPUT");
        assertThat(kubernetes.pods().inNamespace("paia").withName(PodNames.podName(room, 0, 0)).get()).isNull();
    }

    @Test
    void invalidTasksAreRejectedWithADeadLetterCopyAndTheNextTaskStillRuns() throws Exception {
        String malformed = newRoom();
        byte[] bytes = "{\"type\": \"game_cmd\", \"data\": {".getBytes(StandardCharsets.UTF_8);
        publish(malformed, bytes);
        String outside = newRoom();
        publish(outside, seedTask(outside, "user-102/kart_3d/code-855", "stolen")
                .replace(properties.getStorage().getAccountUrl(), "https://evil.blob.core.windows.net"));
        String valid = newRoom();
        uploadProgram("user-102", "kart_3d/code-" + valid, "class MLPlay: pass\n");
        publish(valid, seedTask(valid, "user-102/kart_3d/code-" + valid, "kart3d_ppo_test"));

        JsonNode rejectedJson = awaitResult(malformed);
        assertThat(rejectedJson.path("outcome").asText()).isEqualTo("REJECTED");
        assertThat(rejectedJson.path("error").asText()).startsWith("malformed JSON");
        assertThat(rejectedJson.path("error_source").asText()).isEqualTo("INPUT");
        JsonNode rejectedOutside = awaitResult(outside);
        assertThat(rejectedOutside.path("outcome").asText()).isEqualTo("REJECTED");
        assertThat(rejectedOutside.path("room_id").asText()).isEqualTo(outside);
        assertThat(rejectedOutside.path("error").asText()).contains("outside the storage account");
        assertThat(awaitResult(valid).path("outcome").asText()).isEqualTo("SUCCEEDED");

        await().atMost(Duration.ofSeconds(10)).until(() -> !deadLetters().records(malformed).isEmpty());
        ConsumerRecord<String, byte[]> dead = deadLetters().records(malformed).get(0);
        assertThat(dead.value()).isEqualTo(bytes);
        assertThat(header(dead, "paia.error.reason")).startsWith("malformed JSON");
        assertThat(header(dead, "paia.error.class")).isEqualTo("VALIDATION");
        assertThat(header(dead, "paia.source.topic")).isEqualTo(properties.getKafka().getTaskTopic());
        assertThat(deadLetters().records(outside)).hasSize(1);
    }

    @Test
    void aPodWhoseImageCannotBePulledFailsItsInstanceAfterThePendingTimeout() throws Exception {
        String room = newRoom();
        publishWithProgram(room, "kart_3d/noimage-" + room, "kart3d_noimage");

        JsonNode result = awaitResult(room);

        assertThat(result.path("outcome").asText()).isEqualTo("FAILED");
        assertThat(result.path("error").asText()).contains("did not start within 2 s").contains("ErrImagePull");
        assertThat(result.path("error_source").asText()).isEqualTo("PLATFORM");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> kubernetes.pods().inNamespace("paia").withName(PodNames.podName(room, 0, 0)).get() == null);
    }

    // A running game pod deleted by someone else (a node scale-down, kubectl delete) stays visible
    // thanks to the finalizer; the attempt counts as a platform failure and the instance is retried.
    @Test
    void aGamePodDeletedMidGameIsRetriedAsTheNextAttempt() throws Exception {
        String room = newRoom();
        uploadProgram("user-102", "kart_3d/code-" + room, "class MLPlay: pass\n");
        publish(room, seedTask(room, "user-102/kart_3d/code-" + room, "kart3d_ppo_test")
                .replace("\"user_num\": 1", "\"user_num\": 1, \"sim_duration_ms\": 4000"));
        String first = PodNames.podName(room, 0, 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            var pod = kubernetes.pods().inNamespace("paia").withName(first).get();
            return pod != null && pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
        });

        kubernetes.pods().inNamespace("paia").withName(first).delete();

        JsonNode result = awaitResult(room);
        assertThat(result.path("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(result.path("status").asText()).isEqualTo("Pod " + PodNames.podName(room, 0, 1) + " finished");
        assertThat(kubernetes.pods().inNamespace("paia").withName(first).get()).isNull();
        assertThat(resultsOf(room)).hasSize(1);
    }

    // Cutting the watch (its route stopped: no event arrives) leaves only the periodic relist to
    // notice the pod's end; the run must still finish.
    @Test
    void runFinishesThroughTheRelistWhenTheWatchIsCut() throws Exception {
        camel.getRouteController().stopRoute("pod-watch");
        try {
            assertThat(camel.getRouteController().getRouteStatus("pod-watch")).isEqualTo(ServiceStatus.Stopped);
            String room = newRoom();
            publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");

            assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");
        } finally {
            camel.getRouteController().startRoute("pod-watch");
        }
    }

    private static String download(String url) throws Exception {
        HttpResponse<byte[]> response = HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).as("GET " + url.replaceAll("sig=[^&]*", "sig=***")).isEqualTo(200);
        return new String(response.body(), StandardCharsets.ISO_8859_1);
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
