package org.paia.dispatcher.routes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.task.GameTask;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * {@code errors.yaml}, through the routes that use it: a retriable failure is redelivered by the one
 * {@code retriable} policy, then left for a later pass; an invalid input fails its instance at once.
 */
class ErrorsRouteTest extends RouteTestSupport {

    /** Rooms whose pod creation fails this many more times (an API server answering 503). */
    private static final Map<String, AtomicInteger> CREATE_FAILURES = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> CREATE_CALLS = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> LISTINGS = new ConcurrentHashMap<>();

    @Autowired
    MeterRegistry metrics;

    private double retries(String route) {
        return metrics.find("paia.retries").tag("route", route).tag("class", "RETRIABLE").counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    @BeforeEach
    void adviseRoutes() throws Exception {
        advise("instance-launch", a -> a.weaveById("create-pod").before().process(ErrorsRouteTest::creating));
        advise("program-fetch", a -> a.weaveById("list-program-blobs").before().process(e ->
                count(LISTINGS, e.getVariable("task", GameTask.class).roomId())));
    }

    private static int count(Map<String, AtomicInteger> counts, String room) {
        return counts.computeIfAbsent(room, r -> new AtomicInteger()).incrementAndGet();
    }

    private static void creating(Exchange exchange) {
        String room = exchange.getVariable("run", GameRun.class).roomId();
        count(CREATE_CALLS, room);
        AtomicInteger left = CREATE_FAILURES.get(room);
        if (left != null && left.getAndDecrement() > 0) {
            throw new KubernetesClientException("injected: the API server is unavailable", 503, null);
        }
    }

    @Test
    void aRetriableFailureIsRedeliveredThenTheRunIsClaimedAgainByALaterPass() throws Exception {
        String room = newRoom();
        CREATE_FAILURES.put(room, new AtomicInteger(4));
        double retriesBefore = retries("instance-launch");
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");

        JsonNode result = awaitResult(room);

        assertThat(result.path("outcome").asText()).isEqualTo("SUCCEEDED");
        // first launch: 1 try + 2 redeliveries (paia.retry.max-redeliveries in the test profile), all failing;
        // the next pass claims the run again: 1 more failure, then its first redelivery creates the pod
        assertThat(CREATE_CALLS.get(room).get()).isEqualTo(5);
        // counted from Camel's redelivery events, by the route's own id: nothing in a route file to forget
        assertThat(retries("instance-launch") - retriesBefore).isGreaterThanOrEqualTo(3);
        assertThat(result.path("instances").path("retried").asInt()).as("a launch retry is no new attempt").isZero();
    }

    @Test
    void aProgramThatDoesNotExistFailsItsInstanceAtOnceWithoutAPod() throws Exception {
        String room = newRoom();
        publish(room, seedTask(room, "user-102/kart_3d/does-not-exist-" + room, "ghost"));

        JsonNode result = awaitResult(room);

        assertThat(result.path("outcome").asText()).isEqualTo("FAILED");
        assertThat(result.path("error_source").asText()).isEqualTo("INPUT");
        assertThat(CREATE_CALLS).doesNotContainKey(room);
        // listed by the prefetch and by the launch, never redelivered
        assertThat(LISTINGS.get(room).get()).isBetween(1, 2);
    }
}
