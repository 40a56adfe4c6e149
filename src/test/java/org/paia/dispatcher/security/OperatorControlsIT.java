package org.paia.dispatcher.security;

import static org.paia.dispatcher.security.JolokiaCalls.assertDenied;
import static org.paia.dispatcher.security.JolokiaCalls.body;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.Watcher;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.apache.camel.builder.NotifyBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.support.DispatcherIT;
import org.paia.dispatcher.support.PodTracker;
import org.paia.dispatcher.support.ResultCollector;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Pausing launches from Hawtio (issue 14): an admin suspends the {@code schedule-pass} route over Jolokia,
 * as Hawtio's Suspend button does; no game pod is created while it is suspended, games already running
 * finish and their results are published, readiness stays UP, and a resume launches the waiting tasks.
 * A viewer can do neither.
 */
class OperatorControlsIT extends DispatcherIT {

    private static final String PASS = "schedule-pass";

    @LocalServerPort
    int port;
    @Autowired
    CamelContext camel;

    private JolokiaCalls calls;

    @BeforeEach
    void jolokiaCalls() {
        calls = new JolokiaCalls(port, camel);
    }

    // The long game is running when the pass is suspended; the two tasks published then are accepted
    // (on the ledger) but get no pod over many ticks, until the resume.
    @Test
    void adminPausesLaunchesWhileRunningGamesFinishAndResumeLaunchesTheWaitingTasks() throws Exception {
        String running = newRoom();
        String waiting1 = newRoom();
        String waiting2 = newRoom();
        try (PodTracker pods = new PodTracker(testKubernetes(), properties.getKubernetes().getNamespace(), (a, p) -> { });
             ResultCollector ledger = new ResultCollector(properties.getKafka().getBootstrapServers(),
                     properties.getKafka().getLedgerTopic())) {
            uploadProgram("user-102", "kart_3d/code-" + running, "class MLPlay: pass\n");
            publish(running, seedTask(running, "user-102/kart_3d/code-" + running, "kart3d_ppo_test")
                    .replace("\"user_num\": 1", "\"user_num\": 1, \"sim_duration_ms\": 4000"));
            String runningPod = PodNames.podName(running, 0, 0);
            await().atMost(Duration.ofSeconds(30)).until(() -> pods.events().stream()
                    .anyMatch(e -> runningPod.equals(e.pod()) && "Running".equals(e.phase())));

            try {
                JsonNode suspend = body(exec(WebSecurityIT.ADMIN, WebSecurityIT.ADMIN_PASSWORD, "suspend()"));
                assertThat(suspend.path("status").asInt()).as(suspend.toString()).isEqualTo(200);
                assertThat(camel.getRouteController().getRouteStatus(PASS)).isEqualTo(ServiceStatus.Suspended);
                JsonNode state = body(calls.jolokia(WebSecurityIT.VIEWER, WebSecurityIT.VIEWER_PASSWORD,
                        Map.of("type", "read", "mbean", calls.route(PASS), "attribute", "State")));
                assertThat(state.path("value").asText()).as("what Hawtio shows").isEqualTo("Suspended");

                publishWithProgram(waiting1, "kart_3d/code-" + waiting1, "kart3d_ppo_test");
                publishWithProgram(waiting2, "kart_3d/code-" + waiting2, "kart3d_ppo_test");
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> !ledger.records(waiting1).isEmpty() && !ledger.records(waiting2).isEmpty());

                // The running game ends, is finished and its result goes out, all without a pass.
                JsonNode result = awaitResult(running);
                assertThat(result.path("outcome").asText()).isEqualTo("SUCCEEDED");
                assertThat(result.path("status").asText()).isEqualTo("Pod " + runningPod + " finished");

                // The ticks keep asking for passes (at 100 ms in the test profile); none runs.
                NotifyBuilder ticks = new NotifyBuilder(camel).fromRoute("schedule-tick").whenCompleted(20).create();
                assertThat(ticks.matches(30, TimeUnit.SECONDS)).as("20 more ticks").isTrue();
                assertThat(createdFor(pods, waiting1, waiting2)).as("pods created while launches are paused").isEmpty();
                assertThat(testKubernetes().pods().inNamespace(properties.getKubernetes().getNamespace())
                        .withName(PodNames.podName(waiting1, 0, 0)).get()).isNull();
                assertThat(resultsOf(waiting1)).isEmpty();
                assertThat(resultsOf(waiting2)).isEmpty();
                assertThat(camel.getRouteController().getRouteStatus(PASS)).isEqualTo(ServiceStatus.Suspended);

                // A paused scheduler is healthy: its pod stays Ready (and keeps the Lease).
                JsonNode readiness = readiness();
                assertThat(readiness.path("components").path("camelReadinessState").path("status").asText())
                        .as(readiness.toString()).isEqualTo("UP");

                // Only an admin resumes.
                assertDenied(exec(WebSecurityIT.VIEWER, WebSecurityIT.VIEWER_PASSWORD, "resume()"));
                assertThat(camel.getRouteController().getRouteStatus(PASS)).isEqualTo(ServiceStatus.Suspended);

                JsonNode resume = body(exec(WebSecurityIT.ADMIN, WebSecurityIT.ADMIN_PASSWORD, "resume()"));
                assertThat(resume.path("status").asInt()).as(resume.toString()).isEqualTo(200);
            } finally {
                if (camel.getRouteController().getRouteStatus(PASS) != ServiceStatus.Started) {
                    camel.getRouteController().resumeRoute(PASS);
                }
            }
            assertThat(camel.getRouteController().getRouteStatus(PASS)).isEqualTo(ServiceStatus.Started);

            // The waiting tasks launch on the resume (the pass request a tick left queued) and finish.
            await().atMost(Duration.ofSeconds(30)).until(() -> createdFor(pods, waiting1, waiting2).size() == 2);
            assertThat(awaitResult(waiting1).path("outcome").asText()).isEqualTo("SUCCEEDED");
            assertThat(awaitResult(waiting2).path("outcome").asText()).isEqualTo("SUCCEEDED");
            assertThat(resultsOf(running)).hasSize(1);
        }
    }

    @Test
    void viewerCannotPauseNorResumeLaunches() throws Exception {
        assertDenied(exec(WebSecurityIT.VIEWER, WebSecurityIT.VIEWER_PASSWORD, "suspend()"));
        assertThat(camel.getRouteController().getRouteStatus(PASS)).isEqualTo(ServiceStatus.Started);

        assertDenied(exec(WebSecurityIT.VIEWER, WebSecurityIT.VIEWER_PASSWORD, "resume()"));
        assertThat(camel.getRouteController().getRouteStatus(PASS)).isEqualTo(ServiceStatus.Started);

        // Nor with a timeout (the other suspend operation of Camel's route MBean).
        assertDenied(exec(WebSecurityIT.VIEWER, WebSecurityIT.VIEWER_PASSWORD, "suspend(long)", 1000));
        assertThat(camel.getRouteController().getRouteStatus(PASS)).isEqualTo(ServiceStatus.Started);
    }

    private static List<String> createdFor(PodTracker pods, String... rooms) {
        List<String> watched = List.of(rooms);
        return pods.events().stream().filter(e -> e.action() == Watcher.Action.ADDED && watched.contains(e.room()))
                .map(PodTracker.Event::pod).distinct().toList();
    }

    private HttpResponse<String> exec(String user, String password, String operation, Object... arguments)
            throws Exception {
        return calls.jolokia(user, password, arguments.length == 0
                ? Map.of("type", "exec", "mbean", calls.route(PASS), "operation", operation)
                : Map.of("type", "exec", "mbean", calls.route(PASS), "operation", operation, "arguments", List.of(arguments)));
    }

    private JsonNode readiness() throws Exception {
        HttpResponse<String> response = JolokiaCalls.HTTP.send(HttpRequest.newBuilder(calls.url("/actuator/health/readiness")).build(),
                HttpResponse.BodyHandlers.ofString());
        return JolokiaCalls.JSON.readTree(response.body());
    }
}
