package org.paia.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.Watcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.support.DispatcherIT;
import org.paia.dispatcher.support.PodTracker;

/**
 * Cancellation (issue 14, point 2) on the real broker, Azurite and Kubernetes API server: a {@code cancel_cmd}
 * on the task topic, keyed by the room like its task.
 */
class CancellationIT extends DispatcherIT {

    private void cancel(String room, String reason) {
        publish(room, "{\"type\": \"cancel_cmd\", \"data\": {\"room_id\": \"" + room + "\", \"reason\": \"" + reason + "\"}}");
    }

    private List<String> eventNames(String room) {
        return events().json(room).stream()
                .map(e -> e.path("event").asText() + (e.has("instance") ? "/" + e.path("instance").asInt() : ""))
                .toList();
    }

    private JsonNode lastEvent(String room, String name) {
        List<JsonNode> matching = events().json(room).stream().filter(e -> name.equals(e.path("event").asText())).toList();
        assertThat(matching).as("events %s of room %s", name, room).isNotEmpty();
        return matching.get(matching.size() - 1);
    }

    /** Waits for the room's result, and checks it stays the only one for a while. */
    private JsonNode onlyResult(String room) {
        JsonNode result = awaitResult(room);
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(resultsOf(room)).as("one result for room %s", room).hasSize(1));
        return result;
    }

    // gpu-a takes one pod: a task queued behind the game holding it is dropped, and never gets a pod.
    @Test
    void aQueuedTaskIsDroppedWithoutAPod() throws Exception {
        try (PodTracker pods = new PodTracker(testKubernetes(), properties.getKubernetes().getNamespace(), (a, p) -> { })) {
            String holder = publishBatch("\"pool\": \"gpu-a\"", "\"sim_duration_ms\": 6000");
            await().atMost(Duration.ofSeconds(30)).until(() -> eventNames(holder).contains("RUNNING/0"));
            String queued = publishBatch("\"pool\": \"gpu-a\"", "\"sim_duration_ms\": 500");
            await().atMost(Duration.ofSeconds(30)).until(() -> eventNames(queued).contains("QUEUED"));
            cancel(queued, "room closed");

            JsonNode result = onlyResult(queued);
            assertThat(result.path("outcome").asText()).isEqualTo("CANCELLED");
            assertThat(result.path("error").asText()).isEqualTo("cancelled: room closed");
            assertThat(result.path("instances").path("cancelled").asInt()).isEqualTo(1);
            assertThat(result.path("instances").path("succeeded").asInt()).isZero();
            assertThat(eventNames(queued)).containsExactly("ACCEPTED", "QUEUED", "CANCELLING", "FINISHED/0", "FINISHED");
            assertThat(lastEvent(queued, "CANCELLING").path("reason").asText()).isEqualTo("room closed");
            assertThat(pods.events()).as("a dropped task never gets a pod")
                    .filteredOn(e -> queued.equals(e.room())).isEmpty();

            assertThat(onlyResult(holder).path("outcome").asText()).isEqualTo("SUCCEEDED");
        }
    }

    // A running game: its pod is deleted, the game stopped; what it wrote so far (its log) is uploaded and linked.
    @Test
    void aRunningGameIsStoppedAndKeepsItsPartialArtifacts() throws Exception {
        try (PodTracker pods = new PodTracker(testKubernetes(), properties.getKubernetes().getNamespace(), (a, p) -> { })) {
            String room = publishBatch("\"parallelism\": 1", "\"sim_duration_ms\": 60000");
            await().atMost(Duration.ofSeconds(30)).until(() -> eventNames(room).contains("RUNNING/0"));
            cancel(room, "player left");

            JsonNode result = onlyResult(room);
            assertThat(result.path("outcome").asText()).isEqualTo("CANCELLED");
            assertThat(result.path("status").asText()).endsWith(" cancelled");
            assertThat(result.path("error").asText()).isEqualTo("cancelled: player left");
            assertThat(result.path("artifacts").path("log").asText()).as("the partial log, linked").contains("game.log");
            String log = blobs.getBlobContainerClient(properties.getStorage().getRecordsContainer())
                    .getBlobClient(room + "/run-0-0/game.log").downloadContent().toString();
            assertThat(log).contains("[simulated paiagym] run");
            assertThat(eventNames(room)).containsExactly("ACCEPTED", "QUEUED", "STARTING/0", "RUNNING/0", "CANCELLING",
                    "UPLOADING/0", "FINISHED/0", "FINISHED");
            assertThat(lastEvent(room, "FINISHED").path("outcome").asText()).isEqualTo("CANCELLED");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(pods.events())
                    .filteredOn(e -> room.equals(e.room()) && e.action() == Watcher.Action.DELETED).hasSize(1));
        }
    }

    // A batch: the games that finished keep their outcome, the running ones are stopped, the rest never start.
    @Test
    void aBatchKeepsWhatRanAndCancelsTheRest() throws Exception {
        String room = publishBatch("\"instances\": 6, \"parallelism\": 2", "\"sim_duration_ms\": 2500");
        await().atMost(Duration.ofSeconds(60)).until(() -> events().json(room).stream()
                .anyMatch(e -> "FINISHED".equals(e.path("event").asText()) && e.has("instance")));
        cancel(room, "tournament aborted");

        JsonNode result = onlyResult(room);
        assertThat(result.path("outcome").asText()).isEqualTo("CANCELLED");
        JsonNode counts = result.path("instances");
        assertThat(counts.path("total").asInt()).isEqualTo(6);
        assertThat(counts.path("succeeded").asInt()).isBetween(1, 5);
        assertThat(counts.path("succeeded").asInt() + counts.path("cancelled").asInt()).isEqualTo(6);
        assertThat(counts.path("failed").asInt()).isZero();
        assertThat(result.path("artifacts").path("manifest").asText()).isNotBlank();
        List<String> finished = eventNames(room).stream().filter(n -> n.startsWith("FINISHED/")).toList();
        assertThat(finished).hasSize(6).doesNotHaveDuplicates();
        assertThat(lastEvent(room, "FINISHED").path("progress").path("finished").asInt()).isEqualTo(6);
    }

    // A cancel is never an error and never a result: an unknown room, a finished one, a second cancel and a
    // malformed one are each answered with a CANCEL_IGNORED event.
    @Test
    void aCancelThatCannotCancelIsAnsweredWithAnEvent() throws Exception {
        String unknown = newRoom();
        cancel(unknown, "who?");
        await().atMost(Duration.ofSeconds(30)).until(() -> eventNames(unknown).contains("CANCEL_IGNORED"));
        assertThat(lastEvent(unknown, "CANCEL_IGNORED").path("reason").asText())
                .isEqualTo("no task of room " + unknown + " is known: never accepted, or finished before the duplicate window");

        String done = publishBatch("\"parallelism\": 1", "\"sim_duration_ms\": 100");
        assertThat(awaitResult(done).path("outcome").asText()).isEqualTo("SUCCEEDED");
        await().atMost(Duration.ofSeconds(10)).until(() -> eventNames(done).contains("FINISHED"));
        cancel(done, "too late");
        await().atMost(Duration.ofSeconds(30)).until(() -> eventNames(done).contains("CANCEL_IGNORED"));
        assertThat(lastEvent(done, "CANCEL_IGNORED").path("reason").asText())
                .isEqualTo("the task of room " + done + " has finished (SUCCEEDED): nothing to cancel");

        String twice = publishBatch("\"parallelism\": 1", "\"sim_duration_ms\": 60000");
        await().atMost(Duration.ofSeconds(30)).until(() -> eventNames(twice).contains("RUNNING/0"));
        cancel(twice, "first");
        cancel(twice, "second");
        publish(twice, "{\"type\": \"cancel_cmd\", \"data\": {\"room_id\": \"" + twice + "\", \"reason\": 42}}");
        assertThat(onlyResult(twice).path("error").asText()).isEqualTo("cancelled: first");
        await().atMost(Duration.ofSeconds(10)).until(() -> eventNames(twice).stream()
                .filter("CANCEL_IGNORED"::equals).count() == 2);
        List<String> answers = events().json(twice).stream().filter(e -> "CANCEL_IGNORED".equals(e.path("event").asText()))
                .map(e -> e.path("reason").asText()).toList();
        assertThat(answers).containsExactly("a cancel of room " + twice + " is under way already",
                "cancel_cmd rejected: field 'data.reason' of a cancel_cmd must be a string");
        await().atMost(Duration.ofSeconds(10)).until(() -> !deadLetters().records(twice).isEmpty());
        assertThat(resultsOf(unknown)).isEmpty();
        assertThat(resultsOf(done)).hasSize(1);
    }

    // The race with the game's own end: each cancel is sent a little later after its game started, from well
    // before the game's end (1.5 s) to after it. Each room still gets exactly one result, SUCCEEDED (the game
    // ended first) or CANCELLED, exactly one task FINISHED event agreeing with it, and one FINISHED per instance.
    @Test
    void aCancelCrossingTheGamesOwnEndStillYieldsOneResult() throws Exception {
        List<String> rooms = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            rooms.add(publishBatch("\"parallelism\": 1", "\"sim_duration_ms\": 1500"));
        }
        List<CompletableFuture<Void>> cancels = new ArrayList<>();
        for (int i = 0; i < rooms.size(); i++) {
            String room = rooms.get(i);
            long delay = 200L * i;
            cancels.add(CompletableFuture.runAsync(() -> {
                await().atMost(Duration.ofSeconds(60)).until(() -> eventNames(room).contains("RUNNING/0"));
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                cancel(room, "race");
            }));
        }
        CompletableFuture.allOf(cancels.toArray(CompletableFuture[]::new)).get(90, TimeUnit.SECONDS);
        Map<String, Integer> outcomes = new TreeMap<>();
        for (String room : rooms) {
            JsonNode result = onlyResult(room);
            assertThat(result.path("outcome").asText()).isIn("SUCCEEDED", "CANCELLED");
            outcomes.merge(result.path("outcome").asText() + (eventNames(room).contains("CANCELLING") ? " after CANCELLING"
                    : " (cancel ignored)"), 1, Integer::sum);
            await().atMost(Duration.ofSeconds(10)).until(() -> eventNames(room).contains("FINISHED"));
            List<JsonNode> taskFinished = events().json(room).stream()
                    .filter(e -> "FINISHED".equals(e.path("event").asText()) && !e.has("instance")).toList();
            assertThat(taskFinished).hasSize(1);
            assertThat(taskFinished.get(0).path("outcome").asText()).isEqualTo(result.path("outcome").asText());
            assertThat(eventNames(room)).containsOnlyOnce("FINISHED/0");
        }
        System.out.println("Cancels crossing the games' end: " + outcomes);
    }
}
