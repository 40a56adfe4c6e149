package org.paia.dispatcher.schedule;

import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.ToIntFunction;
import org.paia.dispatcher.config.GpuPools;
import org.paia.dispatcher.config.Priorities;
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
        /** The acceptance this task runs under: written again should a duplicate acceptance become the room key's latest record. */
        final LedgerEntry accepted;
        final Map<Integer, LedgerEntry> outcomes = new TreeMap<>();
        final Map<Integer, Integer> attempts = new HashMap<>();
        final Map<Integer, GameRun> active = new HashMap<>();
        /** The task's cancel request ({@code cancel_cmd}), or null: nothing more is launched, running games are stopped. */
        LedgerEntry cancel;
        /** Instance keys already tombstoned (read ahead of the completion, from another partition). */
        final Set<String> tombstoned = new HashSet<>();
        /** How far each instance's latest attempt has come, as recorded on the ledger (lifecycle events). */
        final Map<Integer, Stage> stages = new HashMap<>();
        /** Instances that have an outcome or a run in flight: the next due instance is the first clear bit. */
        final BitSet taken = new BitSet();

        OpenTask(LedgerEntry accepted, GameTask task, String invalidReason) {
            this.roomId = accepted.roomId();
            this.accepted = accepted;
            this.task = task;
            this.acceptedAt = accepted.at();
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

        /** A batch run (more than one instance): its result links a manifest of every instance's outcome. */
        public boolean isBatch() {
            return task != null && task.instances() > 1;
        }

        /**
         * The ledger keys of this task's instance records (launches and outcomes): what its completion
         * tombstones, so that compaction drops them.
         */
        public List<String> instanceKeys() {
            java.util.SortedSet<Integer> instances = new java.util.TreeSet<>(outcomes.keySet());
            instances.addAll(attempts.keySet());
            List<String> keys = new ArrayList<>(instances.stream().map(i -> LedgerEntry.instanceKey(roomId, i)).toList());
            if (cancel != null) {
                keys.add(LedgerEntry.cancelKey(roomId));
            }
            return keys;
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

    /**
     * How far an instance's run has come on the ledger: its attempt and the stage of its latest record
     * ({@link LedgerEntry.Type#stage()}: launched, running, uploading, outcome), ordered by attempt, then stage.
     */
    public record Stage(int attempt, int level) implements Comparable<Stage> {

        @Override
        public int compareTo(Stage o) {
            return attempt != o.attempt ? Integer.compare(attempt, o.attempt) : Integer.compare(level, o.level);
        }

        /** The further of two stages, either of which may be null. */
        public static Stage max(Stage a, Stage b) {
            return a == null ? b : b == null || a.compareTo(b) >= 0 ? a : b;
        }
    }

    /**
     * What one scheduling pass claimed: runs to launch, runs out of attempts to record as failed, instances of
     * cancelled tasks that never started (to record as cancelled), and running games of cancelled tasks to stop.
     */
    public record Claims(List<GameRun> launch, List<GameRun> exhausted, List<GameRun> cancelled, List<GameRun> stop) {

        public Claims(List<GameRun> launch, List<GameRun> exhausted) {
            this(launch, exhausted, List.of(), List.of());
        }

        /** Nothing to launch and nothing to record (games to stop need no record). */
        public boolean isEmpty() {
            return launch.isEmpty() && exhausted.isEmpty() && cancelled.isEmpty();
        }
    }

    private final TaskParser parser;
    private final Map<String, OpenTask> open = new LinkedHashMap<>();
    /**
     * Completed rooms, with their {@code TASK_COMPLETED} record, until their room key is tombstoned at the
     * end of the duplicate window ({@code paia.ledger.duplicate-window}): bounded by the window, not by history.
     */
    private final Map<String, LedgerEntry> completed = new LinkedHashMap<>();
    /**
     * Instance records read before their task's acceptance. Task records are keyed by room and instance
     * records by room/instance, so they lie on different partitions, which the reader reads in no
     * particular order between partitions; these wait for the acceptance (or the completion) of their room.
     */
    private final Map<String, List<LedgerEntry>> early = new HashMap<>();
    /** Keys of instance records of completed tasks that no tombstone has deleted yet (history written before tombstones). */
    private final Set<String> garbage = new LinkedHashSet<>();
    /**
     * Rooms whose latest record is a duplicate acceptance (one the intake let through while it had not read
     * the first): compaction would keep that one and drop the record that tells the truth, so the truth is
     * written again. Room → the record to write.
     */
    private final Map<String, LedgerEntry> reassert = new LinkedHashMap<>();
    private final Set<String> completing = new HashSet<>();
    private final Map<String, GameRun> runsByPod = new HashMap<>();
    private final Set<String> created = new HashSet<>();
    /** Pods of cancelled tasks whose delete this scheduler has sent (again after a takeover: a delete is idempotent). */
    private final Set<String> stopping = new HashSet<>();
    /**
     * Pods this scheduler has seen since it took over (listed, watched, adopted) and not seen go: never
     * created again. A pod seen may end, be finished and be deleted while a launch of its run is still
     * on its way; creating it then would run the game again.
     */
    private final Set<String> observed = new HashSet<>();
    /**
     * Game pods being created, pending or running, by pod name: what counts against its pool's
     * {@code max-active-pods} and its task's parallelism. A slot is taken when a run is claimed and
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
    /** Whether this replica is the scheduler now (see {@link Leadership}): nothing is claimed otherwise. */
    private volatile boolean scheduling;

    public TaskBook(TaskParser parser) {
        this.parser = parser;
    }

    /**
     * Applies one ledger record; applying the same record twice changes nothing, and neither does the
     * order in which records of different partitions arrive (an instance record read before its task's
     * acceptance waits for it).
     */
    public synchronized void apply(LedgerEntry e) {
        switch (e.type()) {
            case TASK_ACCEPTED -> accept(e);
            case INSTANCE_LAUNCHED, INSTANCE_RUNNING, INSTANCE_UPLOADING, INSTANCE_OUTCOME, CANCEL_REQUESTED -> {
                OpenTask t = open.get(e.roomId());
                if (t != null) {
                    applyInstance(t, e);
                } else if (completed.containsKey(e.roomId())) {
                    garbage.add(e.key()); // its completion's tombstone follows on the same partition, if it was written
                } else {
                    early.computeIfAbsent(e.roomId(), room -> new ArrayList<>()).add(e);
                }
            }
            case TASK_COMPLETED -> complete(e);
        }
    }

    private void applyInstance(OpenTask t, LedgerEntry e) {
        if (e.type() == LedgerEntry.Type.CANCEL_REQUESTED) {
            if (t.cancel == null) {
                t.cancel = e; // the first request stands; a repeat changes nothing
            }
            return;
        }
        if (e.instance() == null) {
            return;
        }
        if (e.attempt() != null) {
            t.attempts.merge(e.instance(), e.attempt(), Math::max);
            t.stages.merge(e.instance(), new Stage(e.attempt(), e.type().stage()), Stage::max);
        }
        if (e.type() == LedgerEntry.Type.INSTANCE_OUTCOME) {
            // the first outcome stands, whatever its attempt: nothing of this instance is recorded after it
            t.stages.put(e.instance(), new Stage(Integer.MAX_VALUE, LedgerEntry.Type.INSTANCE_OUTCOME.stage()));
        }
        if (e.type() == LedgerEntry.Type.INSTANCE_OUTCOME && t.outcomes.putIfAbsent(e.instance(), e) == null) {
            t.taken.set(e.instance());
            GameRun run = t.active.remove(e.instance());
            if (run != null) {
                forget(run);
            }
        }
    }

    private void complete(LedgerEntry e) {
        OpenTask t = open.remove(e.roomId());
        if (t != null) {
            t.active.values().forEach(this::forget);
            // Its instance records are garbage now: the completion's own tombstones (same transaction, read
            // next or already read) take them off again; those of an older version's completion never come.
            t.instanceKeys().stream().filter(key -> !t.tombstoned.contains(key)).forEach(garbage::add);
        }
        completed.remove(e.roomId()); // re-inserted: the map stays in the order completions were read
        completed.put(e.roomId(), e);
        completing.remove(e.roomId());
        reassert.remove(e.roomId());
        List<LedgerEntry> waiting = early.remove(e.roomId());
        if (waiting != null) {
            waiting.forEach(w -> garbage.add(w.key()));
        }
    }

    /**
     * A tombstone (a record with no value) read from the ledger or committed by this process: an instance
     * key deleted when its task completed, or a room key deleted at the end of the duplicate window.
     */
    public synchronized void applyTombstone(String key) {
        int slash = key.indexOf('/');
        if (slash < 0) {
            if (open.containsKey(key)) {
                LOG.warn("Ledger: tombstone for room {} ignored, its task is still open", key);
                return;
            }
            completed.remove(key);
            reassert.remove(key);
            return;
        }
        garbage.remove(key);
        OpenTask t = open.get(key.substring(0, slash));
        if (t != null) {
            t.tombstoned.add(key); // its completion, on another partition, is read next
        }
        List<LedgerEntry> waiting = early.get(key.substring(0, slash));
        if (waiting != null) {
            waiting.removeIf(w -> w.key().equals(key));
            if (waiting.isEmpty()) {
                early.remove(key.substring(0, slash));
            }
        }
    }

    private void accept(LedgerEntry e) {
        String room = e.roomId();
        LedgerEntry done = completed.get(room);
        if (done != null) {
            // Read after the completion on the room's partition: it is that key's latest record now.
            LOG.warn("Ledger: a second acceptance of room {} after its completion ignored (duplicate task); "
                    + "its completion is recorded again so that compaction keeps it", room);
            reassert.put(room, done);
            return;
        }
        OpenTask running = open.get(room);
        if (running != null) {
            if (sameAcceptance(running.accepted, e)) {
                reassert.remove(room); // our own re-write of the acceptance
            } else {
                LOG.warn("Ledger: a second acceptance of room {} ignored (duplicate task); the first one runs", room);
                reassert.put(room, running.accepted);
            }
            return;
        }
        OpenTask t;
        try {
            t = new OpenTask(e, parser.parseData(e.task()), null);
        } catch (TaskRejectedException ex) {
            LOG.warn("Accepted task {} is no longer valid under the current configuration: {}", room, ex.getMessage());
            t = new OpenTask(e, null, ex.getMessage());
        }
        open.put(room, t);
        List<LedgerEntry> waiting = early.remove(room);
        if (waiting != null) {
            for (LedgerEntry w : waiting) {
                applyInstance(t, w);
            }
        }
    }

    private static boolean sameAcceptance(LedgerEntry a, LedgerEntry b) {
        return java.util.Objects.equals(a.at(), b.at()) && java.util.Objects.equals(a.task(), b.task());
    }

    /**
     * Room keys to tombstone, at most {@code max}: rooms completed before {@code cutoff} (outside the
     * duplicate window), then instance keys of completed tasks that no tombstone has deleted yet.
     */
    public synchronized List<String> expiredKeys(Instant cutoff, int max) {
        List<String> keys = new ArrayList<>();
        for (Map.Entry<String, LedgerEntry> done : completed.entrySet()) {
            if (keys.size() >= max) {
                return keys;
            }
            Instant at = done.getValue().at();
            if (at == null || at.isBefore(cutoff)) {
                keys.add(LedgerEntry.taskKey(done.getKey()));
            }
        }
        for (String key : garbage) {
            if (keys.size() >= max) {
                break;
            }
            keys.add(key);
        }
        return keys;
    }

    /** Records to write again because a duplicate acceptance became their key's latest record, at most {@code max}. */
    public synchronized List<LedgerEntry> reassertions(int max) {
        return reassert.values().stream().limit(max).toList();
    }

    /** Sizes of what the book holds, for logs and tests: open tasks, completed rooms, early records, garbage keys. */
    public synchronized String sizes() {
        return open.size() + " open tasks, " + completed.size() + " completed rooms in the duplicate window, "
                + early.values().stream().mapToInt(List::size).sum() + " instance records waiting for their task, "
                + garbage.size() + " instance keys to tombstone";
    }

    public synchronized int completedRooms() {
        return completed.size();
    }

    /** {@link #upcoming(int, Instant)} as at each task's acceptance: no task has aged. */
    public synchronized List<GameTask> upcoming(int n) {
        return upcoming(n, null);
    }

    /**
     * The tasks whose runs are due next, at most {@code n} of each GPU pool, in the order the next free slots
     * go ({@link #serviceOrder}): the ones a launch will need the programs of soon, so that they can be
     * fetched before a slot frees (per pool: a backlog in a full pool does not take the prefetching from the
     * next tasks of another).
     */
    public synchronized List<GameTask> upcoming(int n, Instant now) {
        List<GameTask> next = new ArrayList<>();
        if (!caughtUp || !scheduling || n <= 0) {
            return next;
        }
        List<OpenTask> waiting = new ArrayList<>(open.values().stream().filter(this::isWaiting).toList());
        waiting.sort(serviceOrder(heldByRoom(), now));
        Map<String, Integer> perPool = new HashMap<>();
        for (OpenTask t : waiting) {
            if (perPool.merge(t.task.pool(), 1, Integer::sum) <= n) {
                next.add(t.task);
            }
        }
        return next;
    }

    /** Where a waiting task stands in its pool's queue: its 1-based place, and the instances of the tasks ahead of it. */
    public record QueuePosition(String pool, int place, int instancesAhead) {
    }

    /**
     * The place of this room's task among the tasks of its pool waiting for a slot, in the order the next
     * free slots go ({@link #serviceOrder}) at {@code now}, as this replica's book has them; empty when the
     * task is not open or has no instance waiting. {@code instancesAhead} counts every waiting instance of
     * the tasks ahead; with fair shares they do not all start before this one (a task that gets a pod falls
     * behind those holding fewer), so it is an upper bound, not a forecast. Per-class limits are not
     * applied: a task of a class at its limit keeps its place and waits for a pod of its class to end.
     */
    public synchronized Optional<QueuePosition> queuePosition(String roomId, Instant now) {
        OpenTask me = open.get(roomId);
        if (me == null || !isWaiting(me)) {
            return Optional.empty();
        }
        List<OpenTask> queue = new ArrayList<>(open.values().stream()
                .filter(t -> isWaiting(t) && t.task.pool().equals(me.task.pool())).toList());
        queue.sort(serviceOrder(heldByRoom(), now));
        int ahead = 0;
        for (OpenTask t : queue) {
            if (t == me) {
                break;
            }
            ahead += t.task.instances() - t.taken.cardinality();
        }
        return Optional.of(new QueuePosition(me.task.pool(), queue.indexOf(me) + 1, ahead));
    }

    /**
     * Instances waiting for a slot, by pool and then by the priority class their task was sent with (not the
     * class it has aged to). Only while this replica schedules: empty otherwise.
     */
    public synchronized Map<String, Map<String, Integer>> waitingInstancesByPoolAndPriority() {
        Map<String, Map<String, Integer>> waiting = new HashMap<>();
        if (!mayAct()) {
            return waiting;
        }
        for (OpenTask t : open.values()) {
            if (isWaiting(t)) {
                waiting.computeIfAbsent(t.task.pool(), p -> new HashMap<>())
                        .merge(t.task.priority(), t.task.instances() - t.taken.cardinality(), Integer::sum);
            }
        }
        return waiting;
    }

    /** A valid open task, not being completed, with an instance that has neither an outcome nor a run in flight. */
    private boolean isWaiting(OpenTask t) {
        return t.task != null && t.cancel == null && !completing.contains(t.roomId) && t.nextDue() >= 0;
    }

    /** Game pods alive (being created, pending or running) by room: each task's share of the slots. */
    private Map<String, Integer> heldByRoom() {
        Map<String, Integer> held = new HashMap<>();
        occupied.values().forEach(slot -> held.merge(slot.room(), 1, Integer::sum));
        return held;
    }

    /**
     * The order in which waiting tasks get a pool's free slots, the one place it is decided (claims,
     * prefetching, queue positions): the best effective priority class first — the task's class
     * ({@code data.priority}) lifted one class for every {@code paia.priorities.ageing} it has waited
     * since its acceptance on the ledger ({@link Priorities#effectiveRank}) — then, within a class, the
     * fair share: the fewest pods held ({@code held}, by room). A stable sort or a first-minimum search
     * over tasks in the book's order (the order their acceptances were read) breaks the remaining ties:
     * the oldest first. {@code now} comes from the scheduler's clock (null: no task has aged), so tests
     * drive time and every scheduler computes the same order from the ledger.
     */
    Comparator<OpenTask> serviceOrder(Map<String, Integer> held, Instant now) {
        Priorities priorities = parser.priorities();
        return Comparator.<OpenTask>comparingInt(t -> priorities.effectiveRank(t.task.priority(), t.acceptedAt, now))
                .thenComparingInt(t -> held.getOrDefault(t.roomId, 0));
    }

    /** Whether a task with this room id is on the ledger already (open or completed). */
    public synchronized boolean isKnown(String roomId) {
        return open.containsKey(roomId) || completed.containsKey(roomId);
    }

    /** Marks the ledger as read to its end: from now on the book may launch and complete. */
    public void markCaughtUp() {
        caughtUp = true;
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
        observed.clear();
        completing.clear();
        stopping.clear();
        occupied.clear();
        ended.clear();
        podsListed = false;
    }

    public boolean isCaughtUp() {
        return caughtUp;
    }

    /** This replica has become the scheduler ({@link Leadership}): it may claim runs and completions. */
    public void startScheduling() {
        scheduling = true;
    }

    /** This replica is no longer the scheduler: it claims nothing and leaves pods alone. */
    public void stopScheduling() {
        scheduling = false;
    }

    /** Whether this replica schedules now and has read the ledger to its end: only then may it act on pods. */
    public boolean mayAct() {
        return scheduling && caughtUp;
    }

    /**
     * {@link #claimDue(ToIntFunction, int, Instant)} with one capacity for every pool (the whole capacity when
     * all tasks run in one pool), as at each task's acceptance: no task has aged.
     */
    public synchronized Claims claimDue(int capacity, int defaultMaxAttempts) {
        return claimDue(pool -> capacity, defaultMaxAttempts, null);
    }

    /** {@link #claimDue(ToIntFunction, int, Instant)} as at each task's acceptance: no task has aged. */
    public synchronized Claims claimDue(ToIntFunction<String> capacities, int defaultMaxAttempts) {
        return claimDue(capacities, defaultMaxAttempts, null);
    }

    /**
     * Claims the runs to launch now, within each GPU pool's capacity ({@code capacities}: pool name →
     * pods that have not ended, and twice that many pods that exist, ended ones still being finished
     * included), each priority class's limit in each pool ({@code paia.priorities.limits}) and each task's
     * parallelism. A pod counts against its run's pool; a full pool never holds back the runs of another.
     * Each next slot goes to the first task in {@link #serviceOrder} at {@code now}: the best effective
     * priority class, aged by waiting; within a class, fair shares — the task holding the fewest pods (the
     * oldest task on a tie), so a single game never waits behind a large batch of its class for more than
     * one free slot. A task whose class is at its limit in its pool waits, and the slot goes to the next.
     * Running pods are never preempted. An instance out of attempts is claimed as exhausted (to be
     * recorded failed), without a slot. Pods that exist for a due run are adopted whatever the limits:
     * they need no slot. Nothing is claimed before the ledger is read and the pods are listed.
     */
    public synchronized Claims claimDue(ToIntFunction<String> capacities, int defaultMaxAttempts, Instant now) {
        List<GameRun> launch = new ArrayList<>();
        List<GameRun> exhausted = new ArrayList<>();
        if (!caughtUp || !podsListed || !scheduling) {
            return new Claims(launch, exhausted);
        }
        Map<String, Integer> held = heldByRoom();
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
        List<GameRun> cancelled = new ArrayList<>();
        List<GameRun> stop = new ArrayList<>();
        claimCancelled(cancelled, stop);
        List<OpenTask> candidates = new ArrayList<>();
        for (OpenTask t : open.values()) {
            if (isWaiting(t)) {
                candidates.add(t);
            }
        }
        Priorities priorities = parser.priorities();
        Comparator<OpenTask> order = serviceOrder(held, now);
        Map<String, Integer> alive = countByPool(occupied);
        Map<String, Integer> finishing = countByPool(ended);
        Map<String, Integer> classAlive = countByPoolAndClass(occupied);
        Map<String, Integer> free = new HashMap<>();
        while (!candidates.isEmpty()) {
            OpenTask t = candidates.get(0);
            for (OpenTask c : candidates) {
                if (order.compare(c, t) < 0) {
                    t = c;
                }
            }
            int i = t.nextDue();
            int attempt = t.attempts.getOrDefault(i, 0);
            boolean outOfAttempts = i >= 0 && attempt >= t.task.attemptsAllowed(defaultMaxAttempts);
            String pool = t.task.pool();
            int poolFree = free.computeIfAbsent(pool, p -> {
                int capacity = capacities.applyAsInt(p);
                int a = alive.getOrDefault(p, 0);
                return Math.min(capacity - a, 2 * capacity - a - finishing.getOrDefault(p, 0));
            });
            String poolClass = pool + "/" + t.task.priority();
            OptionalInt classLimit = priorities.maxActivePods(t.task.priority());
            boolean classFull = classLimit.isPresent() && classAlive.getOrDefault(poolClass, 0) >= classLimit.getAsInt();
            if (i < 0 || (!outOfAttempts && (poolFree <= 0 || classFull
                    || held.getOrDefault(t.roomId, 0) >= t.task.parallelism()))) {
                candidates.remove(t);
                continue;
            }
            GameRun run = claim(t, i, attempt);
            if (outOfAttempts) {
                exhausted.add(run);
            } else {
                occupied.put(run.podName(), new PodNames.Listed(t.roomId, i, attempt, false, pool));
                held.merge(t.roomId, 1, Integer::sum);
                free.put(pool, poolFree - 1);
                classAlive.merge(poolClass, 1, Integer::sum);
                launch.add(run);
            }
        }
        return new Claims(launch, exhausted, cancelled, stop);
    }

    /**
     * Of each cancelled task: every instance that has no outcome and no run in flight, to record as cancelled (it
     * never starts), and every run whose pod exists and has not been sent a delete, to stop (its end is then
     * finished as usual, its partial artifacts uploaded, and recorded as cancelled).
     */
    private void claimCancelled(List<GameRun> cancelled, List<GameRun> stop) {
        for (OpenTask t : open.values()) {
            if (t.cancel == null || t.task == null || completing.contains(t.roomId)) {
                continue;
            }
            for (int i = t.nextDue(); i >= 0; i = t.nextDue()) {
                cancelled.add(claim(t, i, t.attempts.getOrDefault(i, 0)));
            }
            for (GameRun run : t.active.values()) {
                if (created.contains(run.podName()) && stopping.add(run.podName())) {
                    stop.add(run);
                }
            }
        }
    }

    /** The delete of a cancelled task's pod failed: the next pass sends it again. */
    public synchronized void stopFailed(GameRun run) {
        stopping.remove(run.podName());
    }

    /** Whether the room's task is open and a cancel of it is recorded. */
    public synchronized boolean isCancelled(String roomId) {
        OpenTask t = open.get(roomId);
        return t != null && t.cancel != null;
    }

    /** The reason of the room's recorded cancel request, or null. */
    public synchronized String cancelReason(String roomId) {
        OpenTask t = open.get(roomId);
        return t == null || t.cancel == null ? null : t.cancel.reason();
    }

    /** The room's completion record while it is in the duplicate window (its task finished), or null. */
    public synchronized LedgerEntry completion(String roomId) {
        return completed.get(roomId);
    }

    /**
     * Pods counted against each priority class's limit, by "pool/class": those of open tasks (the class as
     * recorded, the same for every scheduler). A pod whose task is over counts against its pool only.
     */
    private Map<String, Integer> countByPoolAndClass(Map<String, PodNames.Listed> pods) {
        Map<String, Integer> counts = new HashMap<>();
        for (PodNames.Listed pod : pods.values()) {
            OpenTask t = pod.room() == null ? null : open.get(pod.room());
            if (t != null && t.task != null) {
                counts.merge(t.task.pool() + "/" + t.task.priority(), 1, Integer::sum);
            }
        }
        return counts;
    }

    /**
     * The pool a pod counts against: its open task's (computed from the task as recorded, the same for
     * every scheduler), else the pool its label names (a pod of a task that is over, not yet deleted),
     * else {@code default} (a pod of a version without pools).
     */
    private String poolOf(PodNames.Listed pod) {
        OpenTask t = pod.room() == null ? null : open.get(pod.room());
        if (t != null && t.task != null) {
            return t.task.pool();
        }
        return pod.pool() != null ? pod.pool() : GpuPools.DEFAULT;
    }

    private Map<String, Integer> countByPool(Map<String, PodNames.Listed> pods) {
        Map<String, Integer> counts = new HashMap<>();
        pods.values().forEach(pod -> counts.merge(poolOf(pod), 1, Integer::sum));
        return counts;
    }

    /** Game pods running, pending or being created, by pool, as the scheduler counts them against each pool's capacity. */
    public synchronized Map<String, Integer> occupiedSlotsByPool() {
        return countByPool(occupied);
    }

    /**
     * Instances waiting for a slot, by pool: of open tasks, those with neither an outcome nor a run in
     * flight. Only while this replica schedules (another replica's book claims nothing): empty otherwise.
     */
    public synchronized Map<String, Integer> waitingInstancesByPool() {
        Map<String, Integer> waiting = new HashMap<>();
        waitingInstancesByPoolAndPriority().forEach((pool, byClass) ->
                waiting.put(pool, byClass.values().stream().mapToInt(Integer::intValue).sum()));
        return waiting;
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
        observed.remove(podName); // its run is over (recorded, or lost: the next attempt has another name)
    }

    /** A pod of this name was seen (the watch, a listing, a launch that found it): it exists, or existed. */
    public synchronized void podObserved(String podName) {
        observed.add(podName);
    }

    /**
     * Whether a launch may create this run's pod: the run is still claimed (no outcome recorded, not lost),
     * no pod of its name has been seen, and its task is not cancelled. Otherwise the pod is adopted, or the launch
     * has nothing to do (a cancelled task's run is then given back, and the next pass records it cancelled).
     */
    public synchronized boolean mayCreate(GameRun run) {
        OpenTask t = open.get(run.roomId());
        return runsByPod.get(run.podName()) == run && !observed.contains(run.podName()) && t != null && t.cancel == null;
    }

    /**
     * The pod has reached a terminal phase: its slot is free, though the pod stays until its outcome is
     * recorded (phases never go back from Succeeded or Failed, so the slot is not taken again).
     */
    public synchronized void podEnded(String podName, PodNames.Listed pod) {
        occupied.remove(podName);
        ended.put(podName, pod);
        observed.add(podName);
    }

    /**
     * A full listing of game pods: after a reset, each pod that has not ended takes a slot (pods a
     * previous leader left, adopted by the next claims when their run is due); from then on, a slot
     * whose pod has ended, or is neither listed nor being launched, is freed (an event the watch missed).
     */
    public synchronized void podsListed(Map<String, PodNames.Listed> listed) {
        observed.addAll(listed.keySet());
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
        stopping.remove(run.podName());
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

    /**
     * How far the instance's run has come on the ledger (null: nothing recorded); a completed task's instances
     * all have their outcome.
     */
    public synchronized Stage recordedStage(String roomId, int instance) {
        if (completed.containsKey(roomId)) {
            return new Stage(Integer.MAX_VALUE, LedgerEntry.Type.INSTANCE_OUTCOME.stage());
        }
        OpenTask t = open.get(roomId);
        return t == null ? null : t.stages.get(instance);
    }

    /** The open task's instances and how many have an outcome on the ledger; null when the room is not open. */
    public synchronized org.paia.dispatcher.events.GameEvent.Progress progress(String roomId) {
        OpenTask t = open.get(roomId);
        if (t == null || t.task == null) {
            return null;
        }
        return new org.paia.dispatcher.events.GameEvent.Progress(t.task.instances(), t.outcomes.size());
    }

    /** Whether this instance's outcome is on the ledger, or its whole task is completed. */
    public synchronized boolean isRecorded(String roomId, int instance) {
        if (completed.containsKey(roomId)) {
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

    private static boolean isDone(OpenTask t) {
        return t.task == null || t.outcomes.size() >= t.task.instances();
    }

    /** The open task of this room, or null (unknown, or completed). */
    public synchronized OpenTask openTask(String roomId) {
        return open.get(roomId);
    }

    /** Whether the room's task is open and every instance has an outcome (or it became invalid): it may complete. */
    public synchronized boolean isComplete(String roomId) {
        OpenTask t = open.get(roomId);
        return t != null && isDone(t);
    }

    /**
     * Marks the room's task as being completed (its result is on its way); false when it is not open, not
     * done, or already being completed.
     */
    public synchronized boolean claimCompletion(String roomId) {
        OpenTask t = open.get(roomId);
        return t != null && isDone(t) && completing.add(roomId);
    }

    /**
     * Rooms whose task may complete and has no completion on the ledger yet, being completed or not: what a
     * completion that failed, or that a previous scheduler never sent, leaves behind. Nothing before this
     * replica schedules.
     */
    public synchronized List<String> incompleteButDone() {
        if (!caughtUp || !scheduling) {
            return List.of();
        }
        return open.values().stream().filter(TaskBook::isDone).map(t -> t.roomId).toList();
    }

    /** Whether a completion of this room is under way (claimed, not on the ledger yet). */
    public synchronized boolean isCompleting(String roomId) {
        return completing.contains(roomId);
    }

    public synchronized int openTasks() {
        return open.size();
    }

    /** Where a task joins the queue of its pool: its place among the tasks waiting there, the instances waiting ahead of it, the pool's pods alive. */
    public record QueuePlace(int position, int podsAhead, int podsActive) {
    }

    /**
     * The place a task just accepted takes in its pool's queue, as this replica's book has it: every open task
     * of the pool with instances waiting for a slot and no lower in (aged) class is served first, and the pods
     * alive are the pool's launched instances with no outcome yet. A snapshot for the QUEUED event; on a replica
     * that does not schedule, runs claimed but not yet recorded are not seen. {@code rank}: the new task's class
     * ({@link Priorities#rank}).
     */
    public synchronized QueuePlace queuePlace(String pool, int rank, Instant now) {
        Priorities priorities = parser.priorities();
        int tasksAhead = 0;
        int podsAhead = 0;
        int active = 0;
        for (OpenTask t : open.values()) {
            if (t.task == null || !t.task.pool().equals(pool)) {
                continue;
            }
            int started = Math.max(t.stages.size(), t.taken.cardinality());
            int waiting = t.task.instances() - started;
            active += Math.max(0, started - t.outcomes.size());
            if (waiting > 0 && t.cancel == null && !completing.contains(t.roomId)
                    && priorities.effectiveRank(t.task.priority(), t.acceptedAt, now) <= rank) {
                tasksAhead++;
                podsAhead += waiting;
            }
        }
        return new QueuePlace(tasksAhead + 1, podsAhead, active);
    }
}
