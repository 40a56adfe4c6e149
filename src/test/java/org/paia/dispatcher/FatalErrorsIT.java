package org.paia.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.StatusBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.local.LocalServers;
import org.paia.dispatcher.support.DispatcherIT;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.annotation.DirtiesContext;

/**
 * FATAL failures: the replica stops consuming, commits nothing, reports liveness DOWN — and a
 * restart (a new dispatcher on the same servers, as Kubernetes would start) recovers the task.
 */
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_EACH_TEST_METHOD)
class FatalErrorsIT extends DispatcherIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Autowired
    ConfigurableApplicationContext context;
    @Autowired
    CamelContext camel;
    @LocalServerPort
    int port;
    @Autowired
    org.paia.dispatcher.failures.FatalErrors fatalErrors;

    private HttpResponse<String> liveness() throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health/liveness"))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Waits for the fatal error, then checks that the replica stopped the route and reports itself not alive. */
    private void assertFatal(String expected, String stoppedRoute, String room) throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> fatalErrors.fatal() != null);
        assertThat(fatalErrors.fatal()).contains(expected);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(liveness().body()).contains("DOWN"));
        assertThat(liveness().statusCode()).isEqualTo(503);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> camel.getRouteController().getRouteStatus(stoppedRoute) == ServiceStatus.Stopped);
        assertThat(resultsOf(room)).as("nothing committed").isEmpty();
    }

    /**
     * Stops this dispatcher (its context stays open for the test framework, which discards it after
     * the test) and starts a new one on the same servers; returns it for closing.
     */
    private ConfigurableApplicationContext restart() {
        context.stop();
        return new SpringApplicationBuilder(DispatcherApplication.class).profiles("local", "test")
                .run("--server.port=0");
    }

    @Test
    void aFencedIntakeStopsConsumingGoesDownAndARestartRecoversTheTask() throws Exception {
        assertThat(liveness().statusCode()).isEqualTo(200);
        // A second producer with the intake's transactional id fences ours, as a zombie replica would.
        try (KafkaProducer<String, String> zombie = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.getKafka().getBootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "paia-dispatcher-intake-test",
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()))) {
            zombie.initTransactions();
        }
        String room = newRoom();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");

        assertFatal("ProducerFencedException", "task-intake", room);

        try (ConfigurableApplicationContext restarted = restart()) {
            assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");
            assertThat(resultsOf(room)).hasSize(1);
        }
    }

    @Test
    void forbiddenFromTheKubernetesApiIsFatalAndARestartRecovers() throws Exception {
        LocalServers.kubernetesServer().expect().post().withPath("/api/v1/namespaces/paia/pods")
                .andReturn(403, new StatusBuilder().withCode(403)
                        .withMessage("pods is forbidden: User \"system:serviceaccount:paia:paia-dispatcher\" cannot create")
                        .build()).once();
        String room = newRoom();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");

        assertFatal("forbidden", "schedule-tick", room);

        try (ConfigurableApplicationContext restarted = restart()) {
            assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");
        }
    }
}
