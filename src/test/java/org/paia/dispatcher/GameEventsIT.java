package org.paia.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.events.GameEvent;
import org.paia.dispatcher.ledger.Ledger;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.LedgerWrite;
import org.paia.dispatcher.ledger.Outcome;
import org.paia.dispatcher.results.RunFinisher;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.schedule.TaskBook;
import org.paia.dispatcher.support.DispatcherIT;
import org.paia.dispatcher.watch.FinishedRun;
import org.paia.dispatcher.watch.RunStarted;
import org.paia.dispatcher.watch.RunWatcher;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Lifecycle events (issue 14, point 1) on the real broker, Azurite and Kubernetes API server, read as a web
 * service would: {@code read_committed}, keyed by room.
 */
class GameEventsIT extends DispatcherIT {

    @Autowired
    Ledger ledger;
    @Autowired
    TaskBook book;
    @Autowired
    RunWatcher runWatcher;
    @Autowired
    RunFinisher runFinisher;

    private List<JsonNode> eventsOf(String room) {
        return events().json(room);
    }

    private static List<String> names(List<JsonNode> events) {
        return events.stream().map(e -> e.path("event").asText() + (e.has("instance") ? "/" + e.path("instance").asInt() : ""))
                .toList();
    }

    @Test
    void aGameReportsEachStageOnceInOrderAndItsOutcome() throws Exception {
        String room = newRoom();
        uploadProgram("user-102", "events-" + room, "class MLPlay: pass\n");
        publish(room, batchTask(room, "events-" + room, "\"parallelism\": 1", "\"sim_duration_ms\": 1500"));
        JsonNode result = awaitResult(room);
        assertThat(result.path("outcome").asText()).isEqualTo("SUCCEEDED");
        await().atMost(Duration.ofSeconds(10)).until(() -> eventsOf(room).size() >= 7);

        List<JsonNode> events = eventsOf(room);
        assertThat(names(events)).containsExactly("ACCEPTED", "QUEUED", "STARTING/0", "RUNNING/0", "UPLOADING/0",
                "FINISHED/0", "FINISHED");
        assertThat(events).allSatisfy(e -> {
            assertThat(e.path("room_id").asText()).isEqualTo(room);
            assertThat(e.has("replay")).as("no replay without a takeover").isFalse();
            assertThat(Instant.parse(e.path("at").asText())).isNotNull();
            assertThat(e.path("progress").path("instances").asInt()).isEqualTo(1);
        });
        JsonNode queued = events.get(1);
        assertThat(queued.path("pool").asText()).isEqualTo("default");
        assertThat(queued.path("position").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(queued.has("pods_ahead")).isTrue();
        assertThat(queued.has("pods_active")).isTrue();
        JsonNode starting = events.get(2);
        assertThat(starting.path("attempt").asInt()).isZero();
        assertThat(starting.path("pod").asText()).startsWith("paiagym-");
        assertThat(events.get(3).path("pod").asText()).isEqualTo(starting.path("pod").asText());
        JsonNode instanceFinished = events.get(5);
        assertThat(instanceFinished.path("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(instanceFinished.path("artifacts").path("log").asText()).isEqualTo(room + "/run-0-0/game.log");
        assertThat(instanceFinished.path("progress").path("finished").asInt()).isEqualTo(1);
        JsonNode taskFinished = events.get(6);
        assertThat(taskFinished.path("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(events.get(2).path("progress").path("finished").asInt()).isZero();
    }

    // A batch: each instance's events in order, a progress count that only grows, and the task's FINISHED last.
    @Test
    void aBatchReportsEveryInstanceAndTheTaskProgress() throws Exception {
        String room = publishBatch("\"instances\": 4, \"parallelism\": 2", "\"sim_duration_ms\": 300");
        assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");
        await().atMost(Duration.ofSeconds(10)).until(() -> eventsOf(room).size() >= 2 + 4 * 4 + 1);
        List<JsonNode> events = eventsOf(room);
        assertThat(events).hasSize(2 + 4 * 4 + 1);
        assertThat(names(events.subList(0, 2))).containsExactly("ACCEPTED", "QUEUED");
        assertThat(names(events.subList(events.size() - 1, events.size()))).containsExactly("FINISHED");
        Map<Integer, List<String>> byInstance = events.stream().filter(e -> e.has("instance"))
                .collect(Collectors.groupingBy(e -> e.path("instance").asInt(),
                        Collectors.mapping(e -> e.path("event").asText(), Collectors.toList())));
        assertThat(byInstance).hasSize(4).allSatisfy((instance, stages) ->
                assertThat(stages).containsExactly("STARTING", "RUNNING", "UPLOADING", "FINISHED"));
        List<Integer> finished = new ArrayList<>();
        events.forEach(e -> finished.add(e.path("progress").path("finished").asInt()));
        assertThat(finished).isSorted();
        assertThat(finished.get(finished.size() - 1)).isEqualTo(4);
        assertThat(events.stream().filter(e -> "FINISHED".equals(e.path("event").asText()) && e.has("instance"))
                .map(e -> e.path("progress").path("finished").asInt())).containsExactlyInAnyOrder(1, 2, 3, 4);
    }

    // The ledger decides at commit which stage records and events go out: a RUNNING recorded already is not sent
    // again, a launch or an UPLOADING done again is sent as a replay, and nothing is sent after the outcome.
    @Test
    void aStageReportedTwiceIsSentOnceAndAnUploadDoneAgainIsAReplay() throws Exception {
        String room = newRoom();
        uploadProgram("user-102", "events-twice-" + room, "class MLPlay: pass\n");
        publish(room, batchTask(room, "events-twice-" + room, "\"parallelism\": 1", "\"sim_duration_ms\": 6000"));
        await().atMost(Duration.ofSeconds(30)).until(() -> names(eventsOf(room)).contains("RUNNING/0"));
        GameRun run = book.createdRuns().stream().filter(r -> r.roomId().equals(room)).findFirst().orElseThrow();

        ledger.write(runWatcher.runningRecord(new RunStarted(run, Instant.now())));
        // the same attempt launched again (what a new scheduler does when it adopts the pod): a replay, and the
        // instance key's latest record stays RUNNING
        ledger.write(LedgerWrite.of(LedgerEntry.launched(room, 0, 0, run.podName(), Instant.now()))
                .with(GameEvent.instance(GameEvent.Type.STARTING, room, 0, 0, run.podName(), Instant.now())));
        assertThat(book.recordedStage(room, 0)).isEqualTo(new TaskBook.Stage(0, LedgerEntry.Type.INSTANCE_RUNNING.stage()));
        FinishedRun early = new FinishedRun(run, Outcome.SUCCEEDED, null, null, Instant.now(), Instant.now());
        ledger.write(runFinisher.uploading(early));
        ledger.write(runFinisher.uploading(early));

        assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");
        await().atMost(Duration.ofSeconds(10)).until(() -> names(eventsOf(room)).contains("FINISHED"));
        List<JsonNode> events = eventsOf(room);
        assertThat(names(events)).containsExactly("ACCEPTED", "QUEUED", "STARTING/0", "RUNNING/0", "STARTING/0",
                "UPLOADING/0", "UPLOADING/0", "UPLOADING/0", "FINISHED/0", "FINISHED");
        assertThat(events.stream().map(e -> e.path("replay").asBoolean(false)).toList())
                .containsExactly(false, false, false, false, true, false, true, true, false, false);

        // After the outcome: neither a stage nor a second outcome of the instance is written.
        ledger.write(runFinisher.uploading(early));
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                .untilAsserted(() -> assertThat(names(eventsOf(room))).hasSize(10));
    }

    // A completion of a room that is completed already (Camel's aggregation recovery can race the completion it
    // checks for: both see the room open, both build a result) is not written at all: the room keeps one result.
    @Test
    void aSecondCompletionOfACompletedRoomIsNotWritten() throws Exception {
        String room = publishBatch("\"parallelism\": 1", "\"sim_duration_ms\": 100");
        JsonNode first = awaitResult(room);
        await().atMost(Duration.ofSeconds(10)).until(() -> names(eventsOf(room)).contains("FINISHED"));
        ProducerRecord<String, byte[]> again = new ProducerRecord<>(properties.getKafka().getResultTopic(), room,
                first.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        ledger.write(new LedgerWrite(List.of(again), List.of(LedgerEntry.completed(room, Outcome.SUCCEEDED, Instant.now())),
                List.of()).with(GameEvent.task(GameEvent.Type.FINISHED, room, Instant.now())));
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(resultsOf(room)).hasSize(1);
            assertThat(names(eventsOf(room)).stream().filter("FINISHED"::equals)).hasSize(1);
        });
    }
}
