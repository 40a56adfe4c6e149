package org.paia.dispatcher.watch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.Outcome;
import org.paia.dispatcher.pods.PodCreations;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.schedule.TaskBook;
import org.paia.dispatcher.task.TaskParser;

/**
 * What the scheduler does with a cancelled task (issue 14): the claims of a pass, and how the end of a cancelled
 * task's pod is judged, with the pod as the API server reports it.
 */
class CancelledRunTest {

    private static final String ACCOUNT = "http://127.0.0.1:10000/devstoreaccount1";
    private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
    private final ObjectMapper mapper = new ObjectMapper();
    private TaskBook book;
    private RunWatcher watcher;

    @BeforeEach
    void newBook() {
        book = new TaskBook(new TaskParser(mapper, new DispatcherProperties.Limits(), Set.of("kart_3d"), ACCOUNT));
        book.markCaughtUp();
        book.startScheduling();
        book.podsListed(Map.of());
        watcher = new RunWatcher(book, new PodCreations(book, null), Duration.ofMinutes(10),
                Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private void accept(String room, int instances) throws Exception {
        ObjectNode data = (ObjectNode) mapper.readTree("""
                {"game_id": 7, "game_name": "kart_3d", "room_id": "%s", "ws_uri": "ws://web/ws?token=t",
                 "programs": [{"url": "%s/user-1/p", "code_name": "p"}], "instances": %d, "parallelism": 1}"""
                .formatted(room, ACCOUNT, instances));
        book.apply(LedgerEntry.accepted(room, data, NOW.minusSeconds(60)));
    }

    private GameRun launchedAndCreated(String room) {
        GameRun run = book.claimDue(5, 3).launch().get(0);
        book.apply(LedgerEntry.launched(room, run.instance(), run.attempt(), run.podName(), NOW));
        book.markCreated(run);
        return run;
    }

    private static Pod pod(GameRun run, String phase, Instant deletionTimestamp, Long grace, Instant finishedAt) {
        PodBuilder pod = new PodBuilder().withNewMetadata().withName(run.podName()).endMetadata();
        if (deletionTimestamp != null) {
            pod.editMetadata().withDeletionTimestamp(deletionTimestamp.toString()).withDeletionGracePeriodSeconds(grace)
                    .endMetadata();
        }
        pod.withNewStatus().withPhase(phase).endStatus();
        if (finishedAt != null) {
            pod.editStatus().withContainerStatuses(new ContainerStatusBuilder().withName("game").withNewState()
                    .withNewTerminated().withExitCode("Succeeded".equals(phase) ? 0 : 143)
                    .withFinishedAt(finishedAt.toString()).endTerminated().endState().build()).endStatus();
        }
        return pod.build();
    }

    @Test
    void aPassRecordsQueuedInstancesCancelledAndStopsEachCreatedRunOnce() throws Exception {
        accept("r", 3);
        GameRun running = launchedAndCreated("r");
        book.apply(LedgerEntry.cancelRequested("r", "room closed", NOW));
        assertThat(book.isCancelled("r")).isTrue();
        assertThat(book.mayCreate(running)).as("never created for a cancelled task").isFalse();

        TaskBook.Claims claims = book.claimDue(5, 3);
        assertThat(claims.launch()).isEmpty();
        assertThat(claims.cancelled()).extracting(GameRun::instance).containsExactly(1, 2);
        assertThat(claims.stop()).containsExactly(running);
        assertThat(book.claimDue(5, 3).stop()).as("the delete is sent once").isEmpty();
        book.stopFailed(running);
        assertThat(book.claimDue(5, 3).stop()).as("unless it failed").containsExactly(running);
        assertThat(book.upcoming(5)).isEmpty();
        assertThat(book.waitingInstancesByPool()).isEmpty();
    }

    @Test
    void aStoppedGameIsCancelledUnlessItSucceededBeforeTheStop() throws Exception {
        accept("r", 1);
        GameRun run = launchedAndCreated("r");
        book.apply(LedgerEntry.cancelRequested("r", "room closed", NOW));
        // The API server sets deletionTimestamp to the delete's time plus the grace period (30 s): the stop was
        // asked for at NOW. A game that exits 0 within the grace period, after the stop, was still stopped.
        Pod exitedAfterTheStop = pod(run, "Succeeded", NOW.plusSeconds(30), 30L, NOW.plusSeconds(5));
        Object judged = watcher.onPod(exitedAfterTheStop, "MODIFIED");
        assertThat(judged).isInstanceOfSatisfying(FinishedRun.class, f -> {
            assertThat(f.outcome()).isEqualTo(Outcome.CANCELLED);
            assertThat(f.reason()).isEqualTo("cancelled: room closed");
        });
    }

    @Test
    void aGameThatSucceededBeforeTheStopKeepsItsSuccess() throws Exception {
        accept("r", 1);
        GameRun run = launchedAndCreated("r");
        book.apply(LedgerEntry.cancelRequested("r", "room closed", NOW));
        Pod endedFirst = pod(run, "Succeeded", NOW.plusSeconds(30), 30L, NOW.minusSeconds(1));
        assertThat(watcher.onPod(endedFirst, "MODIFIED")).isInstanceOfSatisfying(FinishedRun.class,
                f -> assertThat(f.outcome()).isEqualTo(Outcome.SUCCEEDED));
    }

    @Test
    void aDeletedPodWhoseGameNeverStartedIsCancelledAtOnce() throws Exception {
        accept("r", 1);
        GameRun run = launchedAndCreated("r");
        book.apply(LedgerEntry.cancelRequested("r", null, NOW));
        Object judged = watcher.onPod(pod(run, "Pending", NOW.plusSeconds(30), 30L, null), "MODIFIED");
        assertThat(judged).isInstanceOfSatisfying(FinishedRun.class, f -> {
            assertThat(f.outcome()).isEqualTo(Outcome.CANCELLED);
            assertThat(f.reason()).isEqualTo("cancelled");
        });
        assertThat(watcher.onPod(pod(run, "Pending", NOW.plusSeconds(30), 30L, null), "MODIFIED"))
                .as("finished once").isNull();
    }

    @Test
    void aRunningPodBeingDeletedIsWaitedForUntilItsGracePeriodAndHalfAMinuteHavePassed() throws Exception {
        accept("r", 1);
        GameRun run = launchedAndCreated("r");
        book.apply(LedgerEntry.cancelRequested("r", null, NOW));
        assertThat(watcher.onPod(pod(run, "Running", NOW.plusSeconds(10), 30L, null), "MODIFIED"))
                .as("the node stops it; its end comes next").isNull();
        assertThat(watcher.onPod(pod(run, "Running", NOW.minusSeconds(31), 30L, null), "MODIFIED"))
                .as("not stopped in time: finished as cancelled").isInstanceOf(FinishedRun.class);
    }
}
