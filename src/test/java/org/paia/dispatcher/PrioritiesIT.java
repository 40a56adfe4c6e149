package org.paia.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.Watcher;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.schedule.TaskBook;
import org.paia.dispatcher.support.DispatcherIT;
import org.paia.dispatcher.support.PodTracker;
import org.paia.dispatcher.support.PrometheusScrape;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Priorities (issue 14, point 3) on the real broker, Azurite and Kubernetes API server, with the default
 * classes (tournament > ranked > practice, 5 minutes' ageing: nothing ages within a test) and the test
 * profile's one-pod pool {@code gpu-a}.
 */
class PrioritiesIT extends DispatcherIT {

    @LocalServerPort
    int port;
    @Autowired
    TaskBook book;
    @Autowired
    Clock clock;

    @Test
    void aTaskNamingAPriorityThatIsNotConfiguredIsRejectedNamingIt() throws Exception {
        String room = newRoom();
        publish(room, batchTask(room, "priority-" + room, "\"priority\": \"vip\"", "\"sim_duration_ms\": 100"));

        JsonNode result = awaitResult(room);
        assertThat(result.path("outcome").asText()).isEqualTo("REJECTED");
        assertThat(result.path("error_source").asText()).isEqualTo("INPUT");
        assertThat(result.path("error").asText())
                .isEqualTo("unknown priority 'data.priority'=\"vip\" is not configured (configured: [tournament, ranked, practice])");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(PrometheusScrape.of(port)
                .value("paia_tasks_rejected_total", "reason_class", "unknown_priority")).isGreaterThanOrEqualTo(1));
    }

    // gpu-a's one slot is held by a game of 8 s; a practice task, then a tournament task, queue for it. When the
    // slot frees, the tournament task's pod is created first, although the practice task was accepted first.
    @Test
    void whenASlotFreesTheTournamentTaskStartsBeforeThePracticeTaskQueuedAheadOfIt() throws Exception {
        try (PodTracker pods = new PodTracker(testKubernetes(), properties.getKubernetes().getNamespace(), (a, p) -> { })) {
            String holder = publishBatch("\"pool\": \"gpu-a\", \"priority\": \"ranked\"", "\"sim_duration_ms\": 8000");
            await().atMost(Duration.ofSeconds(30)).until(() -> addedRooms(pods).contains(holder));

            String practice = publishBatch("\"pool\": \"gpu-a\", \"priority\": \"practice\"", "\"sim_duration_ms\": 200");
            await().atMost(Duration.ofSeconds(10)).until(() -> book.queuePosition(practice, clock.instant()).isPresent());
            String tournament = publishBatch("\"pool\": \"gpu-a\", \"priority\": \"tournament\"", "\"sim_duration_ms\": 200");
            await().atMost(Duration.ofSeconds(10)).until(() -> book.queuePosition(tournament, clock.instant()).isPresent());
            assertThat(book.queuePosition(tournament, clock.instant()))
                    .hasValue(new TaskBook.QueuePosition("gpu-a", 1, 0));
            assertThat(book.queuePosition(practice, clock.instant()))
                    .hasValue(new TaskBook.QueuePosition("gpu-a", 2, 1));
            PrometheusScrape scrape = PrometheusScrape.of(port);
            assertThat(scrape.value("paia_priority_waiting_instances", "pool", "gpu-a", "priority", "tournament")).isEqualTo(1);
            assertThat(scrape.value("paia_priority_waiting_instances", "pool", "gpu-a", "priority", "practice")).isEqualTo(1);
            assertThat(resultsOf(holder)).as("both queued while the slot was still held").isEmpty();

            assertThat(awaitResult(holder).path("outcome").asText()).isEqualTo("SUCCEEDED");
            assertThat(awaitResult(tournament).path("outcome").asText()).isEqualTo("SUCCEEDED");
            assertThat(awaitResult(practice).path("outcome").asText()).isEqualTo("SUCCEEDED");
            assertThat(addedRooms(pods)).as("the order in which gpu-a's pods were created")
                    .filteredOn(room -> List.of(holder, practice, tournament).contains(room))
                    .containsExactly(holder, tournament, practice);
        }
    }

    private static List<String> addedRooms(PodTracker pods) {
        return pods.events().stream().filter(e -> e.action() == Watcher.Action.ADDED && e.room() != null)
                .map(PodTracker.Event::room).distinct().toList();
    }
}
