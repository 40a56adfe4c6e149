package org.paia.dispatcher.routes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.camel.Exchange;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.LedgerWrite;

/**
 * {@code schedule.yaml}: a pass records its launches on the ledger, then launches; task-complete aggregates a
 * room's outcomes into one result that goes out with TASK_COMPLETED in one write, redelivered on the
 * aggregator's own threads.
 */
class ScheduleRouteTest extends RouteTestSupport {

    /** Rooms whose result publish fails (a broker that does not answer), attempts and threads per room. */
    private static final Set<String> FAILING = ConcurrentHashMap.newKeySet();
    private static final Map<String, AtomicInteger> PUBLISH_ATTEMPTS = new ConcurrentHashMap<>();
    private static final Set<String> PUBLISH_THREADS = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void adviseRoutes() throws Exception {
        advise("task-complete", a -> {
            a.weaveById("publish-result").before().process(ScheduleRouteTest::publishing);
            a.weaveById("publish-result").after().to("mock:published");
        });
        advise("schedule-pass", a -> a.weaveById("record-launches").after().to("mock:launches-recorded"));
    }

    private static void publishing(Exchange exchange) {
        String room = exchange.getMessage().getBody(LedgerWrite.class).others().get(0).key();
        PUBLISH_ATTEMPTS.computeIfAbsent(room, r -> new AtomicInteger()).incrementAndGet();
        PUBLISH_THREADS.add(Thread.currentThread().getName());
        if (FAILING.contains(room)) {
            throw new TimeoutException("injected: the broker did not answer the result publish of " + room);
        }
    }

    private static int attempts(String room) {
        AtomicInteger n = PUBLISH_ATTEMPTS.get(room);
        return n == null ? 0 : n.get();
    }

    @Test
    void aPassRecordsTheLaunchesItClaimedOnTheLedger() throws Exception {
        String room = newRoom();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");

        await().atMost(Duration.ofSeconds(30)).until(() -> mock("launches-recorded").getExchanges().stream()
                .flatMap(e -> e.getMessage().getBody(LedgerWrite.class).entries().stream())
                .anyMatch(entry -> entry.type() == LedgerEntry.Type.INSTANCE_LAUNCHED && room.equals(entry.roomId())));
        assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");
    }

    @Test
    void aTasksResultGoesOutWithItsCompletionRecordInOneWrite() throws Exception {
        String room = newRoom();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");

        JsonNode result = awaitResult(room);
        assertThat(result.path("outcome").asText()).isEqualTo("SUCCEEDED");
        LedgerWrite write = mock("published").getExchanges().stream().map(e -> e.getMessage().getBody(LedgerWrite.class))
                .filter(w -> room.equals(w.others().get(0).key())).findFirst().orElseThrow();
        assertThat(write.others()).singleElement()
                .satisfies(r -> assertThat(r.topic()).isEqualTo(properties.getKafka().getResultTopic()));
        assertThat(write.entries()).singleElement().satisfies(e -> {
            assertThat(e.type()).isEqualTo(LedgerEntry.Type.TASK_COMPLETED);
            assertThat(e.roomId()).isEqualTo(room);
        });
    }

    /**
     * A result publish that keeps failing is redelivered (and then recovered from the ledger) on the
     * aggregator's threads: meanwhile another task's games still launch one after another, each needing a pass.
     */
    @Test
    void aFailingResultPublishNeverHoldsBackLaunches() throws Exception {
        String stuck = newRoom();
        FAILING.add(stuck);
        try {
            publishWithProgram(stuck, "kart_3d/code-" + stuck, "kart3d_ppo_test");
            // the first delivery and its redeliveries (paia.retry.max-redeliveries: 2 in the test profile) failed
            await().atMost(Duration.ofSeconds(30)).until(() -> attempts(stuck) >= 3);

            // four games in a row (parallelism 1): four passes, each after the previous game ended
            String batch = publishBatch("\"instances\": 4, \"parallelism\": 1", "\"sim_duration_ms\": 50");
            await().atMost(Duration.ofSeconds(60)).until(() -> !results().records(batch).isEmpty());
            assertThat(resultsOf(batch).get(0).path("instances").path("succeeded").asInt()).isEqualTo(4);

            int failedSoFar = attempts(stuck);
            await().atMost(Duration.ofSeconds(10)).until(() -> attempts(stuck) > failedSoFar); // recovery keeps trying
            assertThat(resultsOf(stuck)).as("no result while its publish fails").isEmpty();
            assertThat(PUBLISH_THREADS).as("publishing threads").noneMatch(t -> t.contains("seda://schedule"));
        } finally {
            FAILING.remove(stuck);
        }

        // Once the broker answers again, the completion is recovered from the ledger and published once.
        assertThat(awaitResult(stuck).path("outcome").asText()).isEqualTo("SUCCEEDED");
        NotifyBuilder laterPasses = new NotifyBuilder(camel).fromRoute("schedule-tick").whenCompleted(10).create();
        assertThat(routeDone(laterPasses, 30)).isTrue();
        assertThat(resultsOf(stuck)).hasSize(1);
    }
}
