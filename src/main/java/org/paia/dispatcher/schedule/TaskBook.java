package org.paia.dispatcher.schedule;

import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.task.GameTask;
import org.paia.dispatcher.task.TaskParser;
import org.paia.dispatcher.task.TaskRejectedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's picture of all open tasks, rebuilt from the ledger and kept current by it.
 *
 * <p>Outcomes come only from ledger records, never from the pods that happen to exist, so a count
 * once recorded never goes backwards: the first outcome of an instance wins, later ones are ignored.
 * Claims ("launching", "completing") are in memory only; they keep two threads from doing the same
 * side effect twice within this process, while the side effects themselves are idempotent.
 */
public class TaskBook {

    private static final Logger LOG = LoggerFactory.getLogger(TaskBook.class);

    /** An open task and what is known of its instances. */
    public static final class OpenTask {
        final String roomId;
        final GameTask task;
        final Instant acceptedAt;
        final String invalidReason;
        final Map<Integer, LedgerEntry> outcomes = new TreeMap<>();
        final Map<Integer, Integer> attempts = new HashMap<>();
        final Map<Integer, GameRun> active = new HashMap<>();
        /** Instances that have an outcome or a run in flight: the next due instance is the first clear bit. */
        final BitSet taken = new BitSet();

        OpenTask(String roomId, GameTask task, Instant acceptedAt, String invalidReason) {
            this.roomId = roomId;
            this.task = task;
            this.acceptedAt = acceptedAt;
            this.invalidReason = invalidReason;
        }

        public String roomId() {
            return roomId;
        }

        /** The task, or null when it is no longer valid (see {@link #invalidReason()}). */
        public GameTask task() {
            return task;
        }

        public Instant acceptedAt() {
            return acceptedAt;
        }

        /** Why the accepted task can no longer be run (configuration changed since), or null. */
        public String invalidReason() {
            return invalidReason;
        }

        public List<LedgerEntry> outcomes() {
            return List.copyOf(outcomes.values());
        }

        /** The first instance with neither an outcome nor a run in flight, or -1. */
        int nextDue() {
            int i = taken.nextClearBit(0);
            return task != null && i < task.instances() ? i : -1;
        }

        void free(int instance) {
            if (!outcomes.containsKey(instance)) {
                taken.clear(instance);
            }
        }
    }

    /** What one scheduling pass claimed: runs to launch, and runs out of attempts to record as failed. */
    public record Claims(List<GameRun> launch, List<GameRun> exhausted) {
    }

    private final TaskParser parser;
    private final Map<String, OpenTask> open = new LinkedHashMap<>();
    private final Set<String> completed = new HashSet<>();
    private final Set<String> completing = new HashSet<>();
    private final Map<String, GameRun> runsByPod = new HashMap<>();
    private final Set<String> created = new HashSet<>();
    /**
     * Game pods being created, pending or running, by pod name: what counts against
     * {@code max-active-pods} and each task's parallelism. A slot is taken when a run is claimed and
     * given back only when its pod is known to have ended (a terminal phase: its containers have exited
     * and hold no GPU, as Kubernetes' own accounting has it) or to be gone (released by us, a DELETED
     * event, or absent from a listing), so errors keep a slot busy rather than overfill the cluster. A
     * pod being deleted while it still runs keeps its slot until it is gone.
     */
    private final Map<String, PodNames.Listed> occupied = new HashMap<>();
    /**
     * Game pods that have ended and still exist: their artifacts are being uploaded and their outcome
     * recorded. They hold no slot, but the pods that exist, alive or ended, are at most twice the
     * capacity: when finishing falls behind, launches wait for it (back-pressure) rather than pile up
     * ended pods.
     */
    private final Map<String, PodNames.Listed> ended = new HashMap<>();
    /** Whether a pod listing has been taken since the claims were last reset (see {@link #podsListed}). */
    private boolean podsListed;
    private volatile boolean caughtUp;

    public TaskBook(TaskParser parser) {
        this.parser = parser;
    }

    /** Applies one ledger record; applying the same record twice changes nothing. */
    public synchronized void apply(LedgerEntry e) {
        switch (e.type()) {
            case TASK_ACCEPTED -> accept(e);
            case INSTANCE_LAUNCHED -> {
                OpenTask t = open.get(e.roomId());
                if (t != null) {
                    t.attempts.merge(e.instance(), e.attempt(), Math::max);
                }
            }
            case INSTANCE_OUTCOME -> {
                OpenTask t = open.get(e.roomId());
                if (t != null && t.outcomes.putIfAbsent(e.instance(), e) == null) {
                    t.taken.set(e.instance());
                    GameRun run = t.active.remove(e.instance());
                    if (run != null) {
                        forget(run);
                    }
                }
            }
            case TASK_COMPLETED -> {
                OpenTask t = open.remove(e.roomId());
                if (t != null) {
                    t.active.values().forEach(this::forget);
                }
                completed.add(e.roomId());
                completing.remove(e.roomId());
            }
        }
    }

    private void accept(LedgerEntry e) {
        String room = e.roomId();
        if (completed.contains(room) || open.containsKey(room)) {
            LOG.warn("Ledger: a second acceptance of room {} ignored (duplicate task); the first one runs", room);
            return;
        }
        try {
            open.put(room, new OpenTask(room, parser.parseData(e.task()), e.at(), null));
        } catch (TaskRejectedException ex) {
            LOG.warn("Accepted task {} is no longer valid under the current configuration: {}", room, ex.getMessage());
            open.put(room, new OpenTask(room, null, e.at(), ex.getMessage()));
        }
    }

    /**
     * The tasks whose runs are due next, at most {@code n}, oldest first: the ones a launch will need
     * the programs of soon, so that they can be fetched before a slot frees.
     */
    public synchronized List<GameTask> upcoming(int n) {
        List<GameTask> next = new ArrayList<>();
        if (!caughtUp) {
            return next;
        }
        for (OpenTask t : open.values()) {
            if (next.size() >= n) {
                break;
            }
            if (t.task != null && !completing.contains(t.roomId) && t.nextDue() >= 0) {
                next.add(t.task);
            }
        }
        return next;
    }

    /** Whether a task with this room id is on the ledger already (open or completed). */
    public synchronized boolean isKnown(String roomId) {
        return open.containsKey(roomId) || completed.contains(roomId);
    }

    /** Marks the ledger as read to its end: from now on the book may launch and complete. */
    public void markCaughtUp() {
        caughtUp = true;
    }

    /** Until the ledger has been read to its current end again, nothing launches or completes. */
    public void markBehind() {
        caughtUp = false;
    }

    /**
     * Forgets every in-memory claim (leadership changed): the new scheduler claims again from the
     * ledger, and adopts pods that already exist for the same attempt.
     */
    public synchronized void resetClaims() {
        for (OpenTask t : open.values()) {
            t.active.keySet().forEach(t::free);
            t.active.clear();
        }
        runsByPod.clear();
        created.clear();
        completing.clear();
        occupied.clear();
        ended.clear();
        podsListed = false;
    }

    public boolean isCaughtUp() {
        return caughtUp;
    }

    /**
     * Claims the runs to launch now, within {@code capacity} pods that have not ended in all (and twice
     * that many pods that exist, ended ones still being finished included) and each task's
     * parallelism. Slots are shared fairly: each next slot goes to the task holding the fewest pods
     * (the oldest task on a tie), so a single game never waits behind a large batch for more than one
     * free slot. An instance out of attempts is claimed as exhausted (to be recorded failed), without a
     * slot. Pods that exist for a due run are adopted whatever the limits: they need no slot. Nothing
     * is claimed before the ledger is read and the pods are listed.
     */
    public synchronized Claims claimDue(int capacity, int defaultMaxAttempts) {
        List<GameRun> launch = new ArrayList<>();
        List<GameRun> exhausted = new ArrayList<>();
        if (!caughtUp || !podsListed) {
            return new Claims(launch, exhausted);
        }
        Map<String, Integer> held = new HashMap<>();
        occupied.values().forEach(slot -> held.merge(slot.room(), 1, Integer::sum));
        // Pods that exist for a due run (left by a previous leader) are adopted first, ended or not:
        // they hold their slot already (or need none), and a task at its parallelism, or a book held
        // back by ended pods that only adoption lets it finish, could otherwise never adopt them.
        for (Map<String, PodNames.Listed> existing : List.of(occupied, ended)) {
            for (Map.Entry<String, PodNames.Listed> e : existing.entrySet()) {
                PodNames.Listed pod = e.getValue();
                OpenTask t = open.get(pod.room());
                if (runsByPod.containsKey(e.getKey()) || t == null || t.task == null || completing.contains(t.roomId)
                        || pod.instance() < 0 || pod.instance() >= t.task.instances() || t.taken.get(pod.instance())
                        || pod.attempt() != t.attempts.getOrDefault(pod.instance(), 0)) {
                    continue;
                }
                launch.add(claim(t, pod.instance(), pod.attempt()));
            }
        }
        List<OpenTask> candidates = new ArrayList<>();
        for (OpenTask t : open.values()) {
            if (t.task != null && !completing.contains(t.roomId) && t.nextDue() >= 0) {
                candidates.add(t);
            }
        }
        int free = Math.min(capacity - occupied.size(), 2 * capacity - occupied.size() - ended.size());
        while (!candidates.isEmpty()) {
            OpenTask t = candidates.get(0);
            for (OpenTask c : candidates) {
                if (held.getOrDefault(c.roomId, 0) < held.getOrDefault(t.roomId, 0)) {
                    t = c;
                }
            }
            int i = t.nextDue();
            int attempt = t.attempts.getOrDefault(i, 0);
            boolean outOfAttempts = i >= 0 && attempt >= t.task.attemptsAllowed(defaultMaxAttempts);
            if (i < 0 || (!outOfAttempts && (free <= 0 || held.getOrDefault(t.roomId, 0) >= t.task.parallelism()))) {
                candidates.remove(t);
                continue;
            }
            GameRun run = claim(t, i, attempt);
            if (outOfAttempts) {
                exhausted.add(run);
            } else {
                occupied.put(run.podName(), new PodNames.Listed(t.roomId, i, attempt));
                held.merge(t.roomId, 1, Integer::sum);
                free--;
                launch.add(run);
            }
        }
        return new Claims(launch, exhausted);
    }

    private GameRun claim(OpenTask t, int instance, int attempt) {
        GameRun run = new GameRun(t.task, instance, attempt);
        t.active.put(instance, run);
        t.taken.set(instance);
        runsByPod.put(run.podName(), run);
        return run;
    }

    /** The pod is known to be gone: its slot is free. */
    public synchronized void podGone(String podName) {
        occupied.remove(podName);
        ended.remove(podName);
    }

    /**
     * The pod has reached a terminal phase: its slot is free, though the pod stays until its outcome is
     * recorded (phases never go back from Succeeded or Failed, so the slot is not taken again).
     */
    public synchronized void podEnded(String podName, PodNames.Listed pod) {
        occupied.remove(podName);
        ended.put(podName, pod);
    }

    /**
     * A full listing of game pods: after a reset, each pod that has not ended takes a slot (pods a
     * previous leader left, adopted by the next claims when their run is due); from then on, a slot
     * whose pod has ended, or is neither listed nor being launched, is freed (an event the watch missed).
     */
    public synchronized void podsListed(Map<String, PodNames.Listed> listed) {
        listed.forEach((name, pod) -> {
            if (pod.ended()) {
                ended.put(name, pod);
            }
        });
        ended.keySet().removeIf(name -> !listed.containsKey(name));
        if (!podsListed) {
            listed.forEach((name, pod) -> {
                if (!pod.ended()) {
                    occupied.put(name, pod);
                }
            });
            podsListed = true;
            return;
        }
        occupied.entrySet().removeIf(slot -> {
            PodNames.Listed pod = listed.get(slot.getKey());
            return pod == null ? !runsByPod.containsKey(slot.getKey()) : pod.ended();
        });
    }

    /** Game pods running, pending or being created, as the scheduler counts them against its capacity. */
    public synchronized int occupiedSlots() {
        return occupied.size();
    }

    /** Game pods that have ended and are still being finished (uploads, outcome, release). */
    public synchronized int endedPods() {
        return ended.size();
    }

    /** Gives a claim back (its launch failed and will be tried again). */
    public synchronized void release(GameRun run) {
        OpenTask t = open.get(run.roomId());
        if (t != null && t.active.remove(run.instance(), run)) {
            forget(run);
            t.free(run.instance());
        }
    }

    /**
     * A run's pod disappeared before its outcome was recorded: the instance is free again and its
     * next launch is the next attempt.
     */
    public synchronized void podLost(GameRun run) {
        OpenTask t = open.get(run.roomId());
        if (t != null && t.active.remove(run.instance(), run)) {
            forget(run);
            t.free(run.instance());
            t.attempts.merge(run.instance(), run.attempt() + 1, Math::max);
        }
    }

    private void forget(GameRun run) {
        runsByPod.remove(run.podName());
        created.remove(run.podName());
    }

    /** The run's pod exists now: from here on, a pod missing from a listing means it was lost. */
    public synchronized void markCreated(GameRun run) {
        if (runsByPod.get(run.podName()) == run) {
            created.add(run.podName());
        }
    }

    /** Runs whose pod has been created and whose outcome is not recorded yet. */
    public synchronized List<GameRun> createdRuns() {
        return created.stream().map(runsByPod::get).toList();
    }

    /** The run in flight with this pod name, if any. */
    public synchronized Optional<GameRun> runOfPod(String podName) {
        return Optional.ofNullable(runsByPod.get(podName));
    }

    /** Whether this instance's outcome is on the ledger, or its whole task is completed. */
    public synchronized boolean isRecorded(String roomId, int instance) {
        if (completed.contains(roomId)) {
            return true;
        }
        OpenTask t = open.get(roomId);
        return t != null && t.outcomes.containsKey(instance);
    }

    /**
     * Whether a pod of this (room, instance, attempt) is of no use: its outcome is recorded, its task
     * is completed or unknown, or a later attempt has been launched.
     */
    public synchronized boolean isStale(String roomId, int instance, int attempt) {
        OpenTask t = open.get(roomId);
        if (t == null || t.task == null || t.outcomes.containsKey(instance) || instance >= t.task.instances()) {
            return true;
        }
        return attempt < t.attempts.getOrDefault(instance, 0);
    }

    /** Claims every task whose instances all have outcomes (or that became invalid) for completion. */
    public synchronized List<OpenTask> claimCompletable() {
        List<OpenTask> ready = new ArrayList<>();
        if (!caughtUp) {
            return ready;
        }
        for (Map.Entry<String, OpenTask> entry : open.entrySet()) {
            OpenTask t = entry.getValue();
            boolean done = t.task == null || t.outcomes.size() >= t.task.instances();
            if (done && completing.add(entry.getKey())) {
                ready.add(t);
            }
        }
        return ready;
    }

    /** Gives a completion claim back (publishing failed and will be tried again). */
    public synchronized void releaseCompletion(String roomId) {
        completing.remove(roomId);
    }

    public synchronized int openTasks() {
        return open.size();
    }
}
