package org.paia.dispatcher.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.config.GpuPools;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.Outcome;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.task.TaskParser;

/** The scheduler's bookkeeping: capacity, parallelism, fair shares, attempts, counts from the ledger only. */
class TaskBookTest {

    private static final String ACCOUNT = "http://127.0.0.1:10000/devstoreaccount1";
    private final ObjectMapper mapper = new ObjectMapper();
    private TaskBook book;

    @BeforeEach
    void newBook() {
        book = new TaskBook(new TaskParser(mapper, new DispatcherProperties.Limits(), Set.of("kart_3d"), ACCOUNT));
        book.markCaughtUp();
        book.startScheduling();
        book.podsListed(Map.of());
    }

    private void accept(String room, String batchFields) {
        book.apply(acceptance(room, batchFields, Instant.now()));
    }

    private LedgerEntry acceptance(String room, String batchFields, Instant at) {
        ObjectNode data = (ObjectNode) readTree("""
                {"game_id": 7, "game_name": "kart_3d", "room_id": "%s", "ws_uri": "ws://web/ws?token=t",
                 "programs": [{"url": "%s/user-1/p", "code_name": "p"}] %s}""".formatted(room, ACCOUNT,
                batchFields.isEmpty() ? "" : ", " + batchFields));
        return LedgerEntry.accepted(room, data, at);
    }

    private Object readTree(String json) {
        try {
            return mapper.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void succeed(GameRun run) {
        book.apply(LedgerEntry.outcome(run.roomId(), run.instance(), run.attempt(), run.podName(), Outcome.SUCCEEDED,
                null, null, null, null, Instant.now(), Instant.now()));
        book.podGone(run.podName());
    }

    private static Map<String, Long> byRoom(List<GameRun> runs) {
        Map<String, Long> counts = new HashMap<>();
        runs.forEach(r -> counts.merge(r.roomId(), 1L, Long::sum));
        return counts;
    }

    @Test
    void aPodIsCreatedOnlyWhileItsRunIsClaimedAndNoPodOfItsNameWasSeen() {
        accept("c", "\"instances\": 2");
        List<GameRun> runs = book.claimDue(5, 3).launch();
        GameRun first = runs.get(0);
        GameRun second = runs.get(1);
        assertThat(book.mayCreate(first)).isTrue();

        book.podObserved(first.podName()); // e.g. a predecessor's pod, listed or watched
        assertThat(book.mayCreate(first)).as("seen: adopted, never created").isFalse();
        succeed(second); // its outcome is recorded and its pod gone
        assertThat(book.mayCreate(second)).as("its run is over").isFalse();

        book.resetClaims(); // a new term: what the next listing shows decides again
        book.podsListed(Map.of(first.podName(), new PodNames.Listed("c", 0, 0, true)));
        GameRun adopted = book.claimDue(5, 3).launch().get(0);
        assertThat(adopted.podName()).isEqualTo(first.podName());
        assertThat(book.mayCreate(adopted)).as("listed: adopted").isFalse();
    }

    @Test
    void neverClaimsMoreThanTheCapacityNorMoreThanATasksParallelism() {
        accept("big", "\"instances\": 100, \"parallelism\": 7");
        accept("other", "\"instances\": 100");
        List<GameRun> first = book.claimDue(10, 3).launch();
        assertThat(first).hasSize(10);
        assertThat(byRoom(first).get("big")).isEqualTo(5);
        assertThat(book.claimDue(10, 3).launch()).isEmpty();
        assertThat(book.occupiedSlots()).isEqualTo(10);

        book.podsListed(Map.of()); // a listing that misses pods still being created frees nothing
        assertThat(book.occupiedSlots()).isEqualTo(10);
    }

    @Test
    void aSingleGameGetsTheNextFreeSlotAheadOfALargeBatch() {
        accept("batch", "\"instances\": 500");
        List<GameRun> running = book.claimDue(5, 3).launch();
        assertThat(running).hasSize(5).allMatch(r -> r.roomId().equals("batch"));
        accept("single", "");

        succeed(running.get(0));
        List<GameRun> next = book.claimDue(5, 3).launch();
        assertThat(next).extracting(GameRun::roomId).containsExactly("single");
    }

    @Test
    void aSlotIsFreeOnceItsPodHasEndedOrIsGoneNotWhenTheOutcomeIsRecorded() {
        accept("t", "\"instances\": 3");
        GameRun run = book.claimDue(1, 3).launch().get(0);
        book.apply(LedgerEntry.outcome("t", run.instance(), 0, run.podName(), Outcome.SUCCEEDED, null, null, null, null,
                Instant.now(), Instant.now()));
        assertThat(book.claimDue(1, 3).launch()).as("its pod is not known to have ended").isEmpty();
        book.podEnded(run.podName(), ended(run));
        GameRun second = book.claimDue(1, 3).launch().get(0);
        assertThat(second.instance()).isEqualTo(1);
        assertThat(book.claimDue(1, 3).launch()).as("the second pod runs").isEmpty();
        book.podGone(second.podName()); // lost: deleted with no terminal phase seen
        assertThat(book.occupiedSlots()).isZero();
    }

    @Test
    void endedPodsHoldNoSlotButNoMoreThanTwiceTheCapacityOfPodsExist() {
        accept("t", "\"instances\": 10");
        List<GameRun> first = book.claimDue(2, 3).launch();
        assertThat(first).hasSize(2);
        first.forEach(run -> book.podEnded(run.podName(), ended(run)));
        assertThat(book.occupiedSlots()).isZero();
        List<GameRun> second = book.claimDue(2, 3).launch();
        assertThat(second).as("the ended pods' slots are free").hasSize(2);
        second.forEach(run -> book.podEnded(run.podName(), ended(run)));
        assertThat(book.claimDue(2, 3).launch()).as("four ended pods still being finished: back-pressure").isEmpty();
        book.podGone(first.get(0).podName());
        GameRun third = book.claimDue(2, 3).launch().get(0);
        assertThat(book.claimDue(2, 3).launch()).as("one pod running, three ended ones waiting").isEmpty();

        // A listing with the ended pods and the running one changes nothing.
        Map<String, PodNames.Listed> listed = new java.util.HashMap<>();
        List.of(first.get(1), second.get(0), second.get(1)).forEach(run ->
                listed.put(run.podName(), new PodNames.Listed("t", run.instance(), 0, true)));
        listed.put(third.podName(), new PodNames.Listed("t", third.instance(), 0));
        book.podsListed(listed);
        assertThat(book.occupiedSlots()).isEqualTo(1);
        assertThat(book.endedPods()).isEqualTo(3);
        // One where the running pod has ended and the others are gone (events the watch missed).
        book.podsListed(Map.of(third.podName(), new PodNames.Listed("t", third.instance(), 0, true)));
        assertThat(book.occupiedSlots()).isZero();
        assertThat(book.endedPods()).isEqualTo(1);
        assertThat(book.claimDue(2, 3).launch()).hasSize(2);
    }

    // Found by ExactlyOnceChaosIT: after 20 kill -9, the last leader found 10 ended pods, more than
    // twice its capacity of 5, which held every claim back; only adopting them lets them be finished.
    @Test
    void endedPodsLeftByAPreviousLeaderAreAdoptedEvenWhileTheyHoldLaunchesBack() {
        accept("t", "\"instances\": 6");
        book.resetClaims();
        Map<String, PodNames.Listed> listed = new java.util.HashMap<>();
        for (int i = 0; i < 4; i++) {
            listed.put(PodNames.podName("t", i, 0), new PodNames.Listed("t", i, 0, true));
        }
        book.podsListed(listed);
        assertThat(book.endedPods()).isEqualTo(4);
        List<GameRun> claimed = book.claimDue(2, 3).launch();
        assertThat(claimed).as("adopted, though 4 ended pods are twice the capacity").extracting(GameRun::instance)
                .containsExactlyInAnyOrder(0, 1, 2, 3);
        assertThat(book.occupiedSlots()).isZero();
    }

    private static PodNames.Listed ended(GameRun run) {
        return new PodNames.Listed(run.roomId(), run.instance(), run.attempt(), true);
    }

    @Test
    void aLostPodIsRetriedAsTheNextAttemptUntilItsAttemptsAreUsedUp() {
        accept("t", "\"instances\": 1, \"max_attempts\": 2");
        GameRun first = book.claimDue(5, 3).launch().get(0);
        book.markCreated(first);
        book.podLost(first);
        book.podGone(first.podName());
        GameRun second = book.claimDue(5, 3).launch().get(0);
        assertThat(second.attempt()).isEqualTo(1);
        book.markCreated(second);
        book.podLost(second);
        book.podGone(second.podName());

        TaskBook.Claims claims = book.claimDue(5, 3);
        assertThat(claims.launch()).isEmpty();
        assertThat(claims.exhausted()).extracting(GameRun::attempt).containsExactly(2);
        assertThat(book.occupiedSlots()).as("an exhausted instance takes no slot").isZero();
    }

    @Test
    void noRunIsClaimedForAnInstanceThatHasAnOutcomeAndCountsIgnoreLateOutcomes() {
        accept("t", "\"instances\": 2");
        book.apply(LedgerEntry.outcome("t", 0, 0, "p", Outcome.SUCCEEDED, null, null, null, null, null, null));
        List<GameRun> runs = book.claimDue(5, 3).launch();
        assertThat(runs).extracting(GameRun::instance).containsExactly(1);
        book.apply(LedgerEntry.outcome("t", 0, 1, "p", Outcome.FAILED, "late", null, null, null, null, null));
        succeed(runs.get(0));
        assertThat(book.claimDue(5, 3).launch()).isEmpty();
        assertThat(book.incompleteButDone()).containsExactly("t");
        TaskBook.OpenTask done = book.openTask("t");
        assertThat(done.outcomes()).extracting(LedgerEntry::outcome).containsOnly(Outcome.SUCCEEDED);
    }

    @Test
    void afterATakeoverPodsLeftBehindCountAgainstTheCapacityAndNothingLaunchesBeforeAListing() {
        accept("t", "\"instances\": 10");
        book.claimDue(3, 3);
        book.resetClaims();
        assertThat(book.claimDue(3, 3).launch()).as("no listing yet").isEmpty();
        book.podsListed(Map.of("old-a", gone("x"), "old-b", gone("x")));
        assertThat(book.claimDue(3, 3).launch()).hasSize(1);
        book.podsListed(Map.of("old-a", gone("x")));
        assertThat(book.claimDue(3, 3).launch()).as("old-b is gone: its slot is free").hasSize(1);
    }

    private static PodNames.Listed gone(String room) {
        return new PodNames.Listed(room, -1, -1);
    }

    @Test
    void podsLeftByAPreviousLeaderAreAdoptedEvenWhenTheirTaskIsAtItsParallelism() {
        accept("t", "\"instances\": 10, \"parallelism\": 2");
        List<GameRun> before = book.claimDue(5, 3).launch();
        assertThat(before).extracting(GameRun::instance).containsExactly(0, 1);
        succeed(before.get(0));
        GameRun third = book.claimDue(5, 3).launch().get(0);
        assertThat(third.instance()).isEqualTo(2);

        book.resetClaims(); // a takeover: the pods of instances 1 and 2 still exist
        book.podsListed(Map.of(before.get(1).podName(), new PodNames.Listed("t", 1, 0),
                third.podName(), new PodNames.Listed("t", 2, 0)));
        List<GameRun> adopted = book.claimDue(5, 3).launch();
        assertThat(adopted).extracting(GameRun::podName)
                .containsExactlyInAnyOrder(before.get(1).podName(), third.podName());
        assertThat(book.occupiedSlots()).isEqualTo(2);
        assertThat(book.claimDue(5, 3).launch()).as("parallelism 2 reached").isEmpty();
    }

    // Issue 11, point 1: task records are keyed by room, instance records by room/instance, so they lie on
    // different partitions and a rebuild may read an instance's outcome before its task's acceptance. The
    // book dropped such records: a rebuilt scheduler ran a finished game again and forgot attempts.
    @Test
    void instanceRecordsReadBeforeTheirTasksAcceptanceAreKept() {
        Instant at = Instant.parse("2026-12-01T10:00:00Z");
        book.apply(LedgerEntry.launched("t", 0, 0, PodNames.podName("t", 0, 0), at));
        book.apply(LedgerEntry.outcome("t", 0, 0, PodNames.podName("t", 0, 0), Outcome.SUCCEEDED, null, null, null,
                null, at, at));
        book.apply(LedgerEntry.launched("t", 1, 2, PodNames.podName("t", 1, 2), at));
        book.apply(acceptance("t", "\"instances\": 3, \"max_attempts\": 5", at));

        List<GameRun> launched = book.claimDue(5, 3).launch();
        assertThat(launched).as("instance 0 succeeded already: never launched again")
                .extracting(GameRun::instance).containsExactlyInAnyOrder(1, 2);
        assertThat(launched).filteredOn(r -> r.instance() == 1).extracting(GameRun::attempt)
                .as("instance 1 keeps its attempts").containsExactly(2);
        assertThat(book.incompleteButDone()).isEmpty();
    }

    @Test
    void aCompletionReadBeforeItsInstanceRecordsLeavesNothingOpenAndTheirKeysAreTombstoned() {
        Instant at = Instant.now();
        book.apply(acceptance("t", "", at));
        book.apply(LedgerEntry.completed("t", Outcome.SUCCEEDED, at));
        // Records of another partition, read afterwards; an older version wrote no tombstones for them.
        book.apply(LedgerEntry.launched("t", 0, 0, "p", at));
        book.apply(LedgerEntry.outcome("t", 0, 0, "p", Outcome.SUCCEEDED, null, null, null, null, at, at));
        assertThat(book.openTasks()).isZero();
        assertThat(book.claimDue(5, 3).launch()).isEmpty();
        assertThat(book.expiredKeys(at.minusSeconds(60), 100)).containsExactly("t/0");
        book.applyTombstone("t/0");
        assertThat(book.expiredKeys(at.minusSeconds(60), 100)).isEmpty();
    }

    @Test
    void aTaskCompletedUnderTheOldVersionHasItsInstanceKeysTombstonedAndItsRoomKeyAtTheEndOfTheWindow() {
        Instant at = Instant.parse("2026-11-01T10:00:00Z");
        book.apply(LedgerEntry.launched("old", 0, 0, "p", at)); // read before the acceptance: waits for it
        book.apply(acceptance("old", "\"instances\": 2", at));
        book.apply(LedgerEntry.outcome("old", 0, 0, "p", Outcome.SUCCEEDED, null, null, null, null, at, at));
        book.apply(LedgerEntry.outcome("old", 1, 0, "p", Outcome.SUCCEEDED, null, null, null, null, at, at));
        book.apply(LedgerEntry.completed("old", Outcome.SUCCEEDED, at));
        book.apply(LedgerEntry.launched("old", 1, 0, "p", at)); // another partition, read last

        assertThat(book.isKnown("old")).isTrue();
        assertThat(book.expiredKeys(at.minusSeconds(1), 100)).as("within the window: the instance keys left behind")
                .containsExactlyInAnyOrder("old/0", "old/1");
        assertThat(book.expiredKeys(at.plusSeconds(1), 100)).as("outside the window: the room key too")
                .containsExactlyInAnyOrder("old", "old/0", "old/1");
    }

    // Point 6: the room key is kept only for the duplicate window; then it is tombstoned, and the room
    // may run again (documented).
    @Test
    void aRoomOutsideTheDuplicateWindowIsForgottenAndMayBeAcceptedAgain() {
        Instant at = Instant.parse("2026-11-01T10:00:00Z");
        accept("r", "");
        GameRun run = book.claimDue(5, 3).launch().get(0);
        succeed(run);
        assertThat(book.claimCompletion("r")).isTrue();
        TaskBook.OpenTask done = book.openTask("r");
        assertThat(done.instanceKeys()).as("what the completion tombstones").containsExactly("r/0");
        book.apply(LedgerEntry.completed("r", Outcome.SUCCEEDED, at));
        done.instanceKeys().forEach(book::applyTombstone); // committed with the completion (ResultPublisher)
        assertThat(book.isKnown("r")).isTrue();
        assertThat(book.completedRooms()).isEqualTo(1);

        List<String> expired = book.expiredKeys(at.plusSeconds(1), 100);
        assertThat(expired).containsExactly("r");
        expired.forEach(book::applyTombstone);
        assertThat(book.isKnown("r")).isFalse();
        assertThat(book.completedRooms()).isZero();

        accept("r", "");
        assertThat(book.claimDue(5, 3).launch()).extracting(GameRun::roomId).containsExactly("r");
    }

    // A duplicate acceptance the intake let through (it had not read the first one yet) and that lands
    // after the completion is the room key's latest record: compaction would keep it and drop the
    // completion, and the next rebuild would run the game again. The completion is written again.
    @Test
    void aDuplicateAcceptanceAfterTheCompletionMakesTheCompletionBeWrittenAgain() {
        Instant at = Instant.now();
        book.apply(acceptance("d", "", at));
        book.apply(LedgerEntry.outcome("d", 0, 0, "p", Outcome.SUCCEEDED, null, null, null, null, at, at));
        LedgerEntry completion = LedgerEntry.completed("d", Outcome.SUCCEEDED, at);
        book.apply(completion);
        book.apply(acceptance("d", "", at.plusSeconds(5)));

        assertThat(book.openTasks()).as("the duplicate does not run").isZero();
        assertThat(book.reassertions(10)).containsExactly(completion);
        book.apply(completion); // written again, and read back
        assertThat(book.reassertions(10)).isEmpty();
    }

    @Test
    void aDuplicateAcceptanceOfAnOpenTaskMakesTheFirstAcceptanceBeWrittenAgain() {
        Instant at = Instant.now();
        LedgerEntry first = acceptance("o", "\"instances\": 2", at);
        book.apply(first);
        book.apply(acceptance("o", "\"instances\": 9", at.plusSeconds(1)));
        assertThat(book.reassertions(10)).containsExactly(first);
        book.apply(first);
        assertThat(book.reassertions(10)).isEmpty();
        assertThat(book.claimDue(20, 3).launch()).as("the first acceptance runs").hasSize(2);
    }

    // Point 3: a replica that is not the scheduler (or not yet) claims nothing, whatever it has read.
    @Test
    void nothingIsClaimedWhileThisReplicaIsNotTheScheduler() {
        accept("t", "");
        book.stopScheduling();
        assertThat(book.claimDue(5, 3).launch()).isEmpty();
        assertThat(book.upcoming(5)).isEmpty();
        assertThat(book.mayAct()).isFalse();
        book.startScheduling();
        assertThat(book.claimDue(5, 3).launch()).hasSize(1);
    }

    // The completion and its tombstones are one transaction, but on different partitions: whichever the
    // reader meets first, nothing is left to tombstone again; a completion written by an older version
    // (no tombstones) leaves its instance keys to the sweep.
    @Test
    void aCompletionWithItsTombstonesLeavesNothingToTombstoneWhateverTheOrderTheyAreRead() {
        Instant at = Instant.now();
        book.apply(acceptance("a", "\"instances\": 2", at));
        book.apply(LedgerEntry.outcome("a", 0, 0, "p", Outcome.SUCCEEDED, null, null, null, null, at, at));
        book.apply(LedgerEntry.outcome("a", 1, 0, "p", Outcome.SUCCEEDED, null, null, null, null, at, at));
        book.applyTombstone("a/0"); // read before the completion
        book.apply(LedgerEntry.completed("a", Outcome.SUCCEEDED, at));
        book.applyTombstone("a/1"); // read after it
        assertThat(book.expiredKeys(at.minusSeconds(60), 100)).isEmpty();

        book.apply(acceptance("old", "", at));
        book.apply(LedgerEntry.outcome("old", 0, 0, "p", Outcome.SUCCEEDED, null, null, null, null, at, at));
        book.apply(LedgerEntry.completed("old", Outcome.SUCCEEDED, at));
        assertThat(book.expiredKeys(at.minusSeconds(60), 100)).containsExactly("old/0");
    }

    /** Capacities of the pools in the pool tests: default 2 pods, gpu-a 1. */
    private static int poolCapacity(String pool) {
        return Map.of("default", 2, "gpu-a", 1).getOrDefault(pool, 0);
    }

    /** A book whose parser knows two pools, default and gpu-a. */
    private TaskBook pooledBook() {
        DispatcherProperties properties = new DispatcherProperties();
        DispatcherProperties.Game kart = new DispatcherProperties.Game();
        kart.setImage("paiaarena/paiagym:latest");
        properties.setGames(Map.of("kart_3d", kart));
        properties.setPools(Map.of("default", new DispatcherProperties.Pool(), "gpu-a", new DispatcherProperties.Pool()));
        TaskBook pooled = new TaskBook(new TaskParser(mapper, new DispatcherProperties.Limits(), Set.of("kart_3d"),
                GpuPools.of(properties), ACCOUNT));
        pooled.markCaughtUp();
        pooled.startScheduling();
        pooled.podsListed(Map.of());
        return pooled;
    }

    @Test
    void eachPoolFillsToItsOwnCapacityAndAFullPoolNeverHoldsBackAnother() {
        book = pooledBook();
        accept("a", "\"instances\": 4, \"pool\": \"gpu-a\""); // the oldest task: first in fair-share order
        accept("d", "\"instances\": 4");

        List<GameRun> first = book.claimDue(TaskBookTest::poolCapacity, 3).launch();
        assertThat(byRoom(first)).as("gpu-a takes 1, default 2").containsExactlyInAnyOrderEntriesOf(Map.of("a", 1L, "d", 2L));
        assertThat(book.occupiedSlotsByPool()).containsExactlyInAnyOrderEntriesOf(Map.of("gpu-a", 1, "default", 2));
        assertThat(book.waitingInstancesByPool()).containsExactlyInAnyOrderEntriesOf(Map.of("gpu-a", 3, "default", 2));
        assertThat(book.claimDue(TaskBookTest::poolCapacity, 3).launch()).as("both pools full").isEmpty();

        first.stream().filter(run -> run.roomId().equals("d")).findFirst().ifPresent(this::succeed);
        assertThat(book.claimDue(TaskBookTest::poolCapacity, 3).launch()).as("a default slot, gpu-a still full")
                .extracting(GameRun::roomId).containsExactly("d");
        first.stream().filter(run -> run.roomId().equals("a")).findFirst().ifPresent(this::succeed);
        assertThat(book.claimDue(TaskBookTest::poolCapacity, 3).launch()).as("gpu-a's slot")
                .extracting(GameRun::roomId).containsExactly("a");
    }

    @Test
    void endedPodsHoldBackOnlyTheirOwnPool() {
        book = pooledBook();
        accept("a", "\"instances\": 4, \"pool\": \"gpu-a\"");
        List<GameRun> gpuA = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
            GameRun run = book.claimDue(TaskBookTest::poolCapacity, 3).launch().get(0);
            book.podEnded(run.podName(), ended(run));
            gpuA.add(run);
        }
        assertThat(book.claimDue(TaskBookTest::poolCapacity, 3).launch()).as("two ended gpu-a pods: twice its capacity")
                .isEmpty();
        accept("d", "\"instances\": 2");
        assertThat(book.claimDue(TaskBookTest::poolCapacity, 3).launch()).extracting(GameRun::roomId)
                .containsExactly("d", "d");
        book.podGone(gpuA.get(0).podName());
        assertThat(book.claimDue(TaskBookTest::poolCapacity, 3).launch()).extracting(GameRun::roomId)
                .containsExactly("a");
    }

    // A new scheduler knows a listed pod's pool from its task as recorded on the ledger (data.pool), the same
    // pool the old one counted it in; a pod whose task is over, from its pool label; one without, in default.
    @Test
    void afterATakeoverListedPodsCountAgainstTheirRunsPool() {
        book = pooledBook();
        accept("a", "\"instances\": 3, \"pool\": \"gpu-a\"");
        accept("d", "\"instances\": 3");
        book.resetClaims();
        book.podsListed(Map.of(
                PodNames.podName("a", 0, 0), new PodNames.Listed("a", 0, 0),
                "old-labelled", new PodNames.Listed("done", 0, 0, false, "default"),
                "old-unlabelled", new PodNames.Listed("older", 0, 0)));
        assertThat(book.occupiedSlotsByPool()).containsExactlyInAnyOrderEntriesOf(Map.of("gpu-a", 1, "default", 2));

        List<GameRun> claimed = book.claimDue(TaskBookTest::poolCapacity, 3).launch();
        assertThat(claimed).as("a's pod is adopted; no slot is free in either pool").extracting(GameRun::podName)
                .containsExactly(PodNames.podName("a", 0, 0));
        book.podGone("old-unlabelled");
        assertThat(book.claimDue(TaskBookTest::poolCapacity, 3).launch()).extracting(GameRun::roomId)
                .containsExactly("d");
    }

    @Test
    void theTasksDueNextArePrefetchedPerPool() {
        book = pooledBook();
        accept("a1", "\"pool\": \"gpu-a\"");
        accept("a2", "\"pool\": \"gpu-a\"");
        accept("a3", "\"pool\": \"gpu-a\"");
        accept("d1", "");

        assertThat(book.upcoming(2)).as("gpu-a's backlog leaves room for default's next task")
                .extracting(org.paia.dispatcher.task.GameTask::roomId).containsExactly("a1", "a2", "d1");
    }

    // ---- Priorities (issue 14, point 3) ----

    private static final Instant T0 = Instant.parse("2026-12-02T12:00:00Z");
    private static final java.time.Duration AGEING = java.time.Duration.ofMinutes(5);

    /** A book whose tasks run in one pool, with the default classes (tournament > ranked > practice), 5 min ageing and these limits. */
    private TaskBook prioritizedBook(Map<String, Integer> classLimits) {
        DispatcherProperties.PrioritySettings settings = new DispatcherProperties.PrioritySettings();
        settings.setAgeing(AGEING);
        Map<String, DispatcherProperties.ClassLimits> limits = new HashMap<>();
        classLimits.forEach((c, max) -> {
            DispatcherProperties.ClassLimits limit = new DispatcherProperties.ClassLimits();
            limit.setMaxActivePods(max);
            limits.put(c, limit);
        });
        settings.setLimits(limits);
        TaskBook prioritized = new TaskBook(new TaskParser(mapper, new DispatcherProperties.Limits(), Set.of("kart_3d"),
                GpuPools.single(1), org.paia.dispatcher.config.Priorities.of(settings), ACCOUNT));
        prioritized.markCaughtUp();
        prioritized.startScheduling();
        prioritized.podsListed(Map.of());
        return prioritized;
    }

    /** Claims with one pool of this capacity and 3 attempts, at {@code now}. */
    private List<GameRun> claimAt(int capacity, Instant now) {
        return book.claimDue(pool -> capacity, 3, now).launch();
    }

    /** Accepts a task of this class (null: none named) at {@code at} on the ledger. */
    private void acceptAt(String room, String priority, Instant at, String fields) {
        String all = priority == null ? fields : "\"priority\": \"" + priority + "\"" + (fields.isEmpty() ? "" : ", " + fields);
        book.apply(acceptance(room, all, at));
    }

    private void succeedAt(GameRun run, Instant at) {
        book.apply(LedgerEntry.outcome(run.roomId(), run.instance(), run.attempt(), run.podName(), Outcome.SUCCEEDED,
                null, null, null, null, at, at));
        book.podGone(run.podName());
    }

    @Test
    void aFreeSlotGoesToTheHigherClassEvenWhenTheLowerOneWasAcceptedFirst() {
        book = prioritizedBook(Map.of());
        acceptAt("running", "ranked", T0, "");
        GameRun running = claimAt(1, T0).get(0);
        acceptAt("practice", null, T0.plusSeconds(1), "");
        acceptAt("ranked", "ranked", T0.plusSeconds(2), "");
        acceptAt("tournament", "tournament", T0.plusSeconds(3), "");
        assertThat(claimAt(1, T0.plusSeconds(4))).as("the pool is full").isEmpty();

        succeedAt(running, T0.plusSeconds(5));
        assertThat(claimAt(1, T0.plusSeconds(5))).extracting(GameRun::roomId).containsExactly("tournament");
        assertThat(book.upcoming(5, T0.plusSeconds(5))).as("prefetching follows the same order")
                .extracting(org.paia.dispatcher.task.GameTask::roomId).containsExactly("ranked", "practice");
    }

    // Within one class the fair share is as before: the task holding the fewest pods gets the next slot,
    // the oldest on a tie, so a single tournament game never waits behind a tournament batch for more than one slot.
    @Test
    void withinAClassTheFairShareIsUnchanged() {
        book = prioritizedBook(Map.of());
        acceptAt("batch", "tournament", T0, "\"instances\": 50");
        acceptAt("practice-batch", "practice", T0.plusSeconds(1), "\"instances\": 50");
        List<GameRun> running = claimAt(3, T0.plusSeconds(2));
        assertThat(running).as("the tournament batch takes every slot").allMatch(r -> r.roomId().equals("batch"));
        acceptAt("single", "tournament", T0.plusSeconds(3), "");
        acceptAt("single2", "tournament", T0.plusSeconds(4), "");

        succeedAt(running.get(0), T0.plusSeconds(5));
        assertThat(claimAt(3, T0.plusSeconds(5))).extracting(GameRun::roomId).containsExactly("single");
        succeedAt(running.get(1), T0.plusSeconds(6));
        assertThat(claimAt(3, T0.plusSeconds(6))).extracting(GameRun::roomId).containsExactly("single2");
        succeedAt(running.get(2), T0.plusSeconds(7));
        assertThat(claimAt(3, T0.plusSeconds(7))).as("then the batch, still ahead of practice")
                .extracting(GameRun::roomId).containsExactly("batch");
    }

    // The starvation bound: one slot, a practice task (rank 2) accepted at T0, and a stream of tournament tasks,
    // a new one accepted every minute whatever runs, each game 3 minutes long. Without ageing the practice task
    // would never start; with it, it competes as a tournament task from T0 + 2 x ageing, and being older than
    // every tournament task still waiting it takes the next slot that frees: it starts no later than
    // rank x ageing + one game's length after its acceptance.
    @Test
    void aPracticeTaskWaitingBehindAStreamOfTournamentTasksStartsWithinTheAgeingBound() {
        book = prioritizedBook(Map.of());
        java.time.Duration game = java.time.Duration.ofMinutes(3);
        java.time.Duration arrivals = java.time.Duration.ofMinutes(1);
        acceptAt("t-0", "tournament", T0.minusSeconds(1), "");
        GameRun running = claimAt(1, T0.minusSeconds(1)).get(0);
        Instant runningUntil = T0.minusSeconds(1).plus(game);
        acceptAt("practice", "practice", T0, "");
        Instant bound = T0.plus(AGEING.multipliedBy(2)).plus(game);

        Instant nextArrival = T0.plusSeconds(1);
        int arrived = 0;
        Instant practiceStarted = null;
        List<String> order = new java.util.ArrayList<>();
        for (Instant now = T0; practiceStarted == null && !now.isAfter(bound.plus(game)); now = now.plusSeconds(10)) {
            while (!nextArrival.isAfter(now)) {
                acceptAt("t-" + ++arrived, "tournament", nextArrival, "");
                nextArrival = nextArrival.plus(arrivals);
            }
            if (running != null && !runningUntil.isAfter(now)) {
                succeedAt(running, now);
                running = null;
            }
            for (GameRun run : claimAt(1, now)) {
                order.add(run.roomId());
                running = run;
                runningUntil = now.plus(game);
                if (run.roomId().equals("practice")) {
                    practiceStarted = now;
                }
            }
        }
        assertThat(order).as("tournament tasks ran first").startsWith("t-1");
        assertThat(practiceStarted).as("the practice task started, ahead of the tournament tasks still waiting").isNotNull()
                .isBeforeOrEqualTo(bound);
        assertThat(book.queuePosition("t-" + arrived, practiceStarted)).as("tournament tasks still waited").isPresent();
    }

    @Test
    void aClassAtItsLimitInAPoolWaitsAndTheSlotGoesToTheNextTask() {
        book = prioritizedBook(Map.of("practice", 2));
        acceptAt("practice", "practice", T0, "\"instances\": 10");
        acceptAt("other-practice", null, T0.plusSeconds(1), "");
        List<GameRun> first = claimAt(4, T0.plusSeconds(2));
        assertThat(first).as("practice holds at most 2 of the 4 slots").hasSize(2)
                .extracting(GameRun::roomId).containsExactlyInAnyOrder("practice", "other-practice");

        acceptAt("ranked", "ranked", T0.plusSeconds(3), "\"instances\": 3");
        assertThat(claimAt(4, T0.plusSeconds(3))).as("the free slots go to other classes")
                .extracting(GameRun::roomId).containsExactly("ranked", "ranked");
        succeedAt(first.get(0), T0.plusSeconds(4));
        assertThat(claimAt(4, T0.plusSeconds(4))).as("ranked holds more, but is ahead by class")
                .extracting(GameRun::roomId).containsExactly("ranked");
        acceptAt("tournament", "tournament", T0.plusSeconds(5), "");
        succeedAt(first.get(1), T0.plusSeconds(6));
        assertThat(claimAt(4, T0.plusSeconds(6))).extracting(GameRun::roomId)
                .containsExactly("tournament");
        assertThat(claimAt(4, T0.plusSeconds(6))).as("the pool is full").isEmpty();
    }

    // A practice task at its limit keeps it even once aged to the top class: the limit counts the class it was sent with.
    @Test
    void anAgedTaskStillCountsAgainstItsOwnClassesLimit() {
        book = prioritizedBook(Map.of("practice", 1));
        acceptAt("p1", "practice", T0, "");
        acceptAt("p2", "practice", T0, "");
        assertThat(claimAt(3, T0.plus(AGEING.multipliedBy(3)))).extracting(GameRun::roomId)
                .containsExactly("p1");
    }

    @Test
    void aWaitingTasksQueuePositionIsItsPlaceInItsPoolsServiceOrder() {
        book = prioritizedBook(Map.of());
        acceptAt("running", "tournament", T0, "\"instances\": 2, \"parallelism\": 1");
        claimAt(1, T0);
        acceptAt("practice", "practice", T0.plusSeconds(1), "\"instances\": 4");
        acceptAt("ranked", "ranked", T0.plusSeconds(2), "");
        acceptAt("tournament", "tournament", T0.plusSeconds(3), "\"instances\": 3");

        Instant now = T0.plusSeconds(10);
        assertThat(book.queuePosition("tournament", now)).as("ahead of the running task, which holds a pod")
                .hasValue(new TaskBook.QueuePosition("default", 1, 0));
        assertThat(book.queuePosition("running", now)).hasValue(new TaskBook.QueuePosition("default", 2, 3));
        assertThat(book.queuePosition("ranked", now)).hasValue(new TaskBook.QueuePosition("default", 3, 4));
        assertThat(book.queuePosition("practice", now)).hasValue(new TaskBook.QueuePosition("default", 4, 5));
        assertThat(book.queuePosition("practice", T0.plusSeconds(1).plus(AGEING)))
                .as("aged to ranked, and older than the ranked task").hasValue(new TaskBook.QueuePosition("default", 3, 4));
        assertThat(book.queuePosition("unknown", now)).isEmpty();
    }
}
