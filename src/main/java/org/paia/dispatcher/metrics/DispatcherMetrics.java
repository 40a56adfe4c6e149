package org.paia.dispatcher.metrics;

import io.fabric8.kubernetes.api.model.Pod;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.paia.dispatcher.config.GpuPools;
import org.paia.dispatcher.config.Priorities;
import org.paia.dispatcher.failures.FailureClass;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.LedgerReader;
import org.paia.dispatcher.schedule.TaskBook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dispatcher's own Prometheus metrics (docs/metrics.md). Fed by observers only: the ledger's
 * committed and applied entries and {@link PipelineEventNotifier}'s view of the routes' exchanges.
 * Every label has a small fixed set of values (no room ids, pod names or free text).
 */
public class DispatcherMetrics {

    private static final Logger LOG = LoggerFactory.getLogger(DispatcherMetrics.class);

    /** Pod phases (Kubernetes' five), the values of {@code paia_game_pods{phase}}. */
    public static final List<String> PHASES = List.of("Pending", "Running", "Succeeded", "Failed", "Unknown");
    /** Classes of intake rejections, the values of {@code paia_tasks_rejected_total{reason_class}}. */
    public static final List<String> REJECTION_CLASSES = List.of("duplicate", "malformed", "unknown_game", "unknown_pool",
            "unknown_priority", "invalid_field", "other");

    private static final int REMEMBERED_INSTANCES = 100_000;
    private static final int REMEMBERED_GAME_ENDS = 10_000;

    private final MeterRegistry registry;
    private final Clock clock;
    private final Counter accepted;
    private final Counter gpuSeconds;
    private final Timer dispatchGap;
    private final Map<String, String> podPhases = new ConcurrentHashMap<>();
    private final Map<String, Instant> acceptedAt = new ConcurrentHashMap<>();
    private final Deque<Instant> gameEnds = new ArrayDeque<>();
    private final Set<String> countedInstances = Collections.newSetFromMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED_INSTANCES;
        }
    });

    public DispatcherMetrics(MeterRegistry registry, LedgerReader reader, Clock clock) {
        this.registry = registry;
        this.clock = clock;
        accepted = Counter.builder("paia.tasks.accepted")
                .description("Tasks accepted by this replica's intake (their acceptance committed to the ledger)")
                .register(registry);
        REJECTION_CLASSES.forEach(this::rejectedCounter);
        gpuSeconds = Counter.builder("paia.gpu.seconds")
                .description("GPU time of finished game pods (one GPU each): finishedAt - startedAt of each recorded outcome")
                .register(registry);
        dispatchGap = Timer.builder("paia.dispatch.gap")
                .description("Time from a game pod's end to the next pod creation, when that work was already waiting")
                .serviceLevelObjectives(Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
                        Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
                        Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofMinutes(5))
                .register(registry);
        for (String phase : PHASES) {
            Gauge.builder("paia.game.pods", podPhases, pods -> pods.values().stream().filter(phase::equals).count())
                    .description("Game pods by phase, as last seen by the pod watch and relist (scheduler replica only)")
                    .tag("phase", phase)
                    .register(registry);
        }
        Gauge.builder("paia.ledger.lag.records", reader, r -> r.lag() < 0 ? Double.NaN : r.lag())
                .description("Ledger records committed but not yet applied by this replica's ledger reader")
                .register(registry);
    }

    /**
     * Per GPU pool ({@code pool} = a configured pool's name): its capacity, the game pods counted against it,
     * and the instances of open tasks waiting for one of its slots, as the scheduler's {@link TaskBook} has
     * them (the scheduler replica only; the others report 0 pods and 0 waiting).
     */
    public void watchPools(GpuPools pools, TaskBook book) {
        for (String name : pools.names()) {
            Gauge.builder("paia.pool.capacity", pools, p -> p.capacity(name))
                    .description("Game pods a GPU pool takes at once (paia.pools.<pool>.max-active-pods)")
                    .tag("pool", name)
                    .register(registry);
            Gauge.builder("paia.pool.active.pods", book, b -> b.occupiedSlotsByPool().getOrDefault(name, 0))
                    .description("Game pods being created, pending or running in a GPU pool, as the scheduler counts "
                            + "them against its capacity (scheduler replica only)")
                    .tag("pool", name)
                    .register(registry);
            Gauge.builder("paia.pool.waiting.instances", book, b -> b.waitingInstancesByPool().getOrDefault(name, 0))
                    .description("Instances of open tasks waiting for a slot of a GPU pool (scheduler replica only)")
                    .tag("pool", name)
                    .register(registry);
        }
    }

    /**
     * Per GPU pool and priority class ({@code priority} = a configured class): the instances of open tasks of
     * that class waiting for one of the pool's slots (the scheduler replica only; the others report 0).
     */
    public void watchPriorities(GpuPools pools, Priorities priorities, TaskBook book) {
        for (String pool : pools.names()) {
            for (String priority : priorities.classes()) {
                Gauge.builder("paia.priority.waiting.instances", book, b -> b.waitingInstancesByPoolAndPriority()
                                .getOrDefault(pool, Map.of()).getOrDefault(priority, 0))
                        .description("Instances of open tasks of a priority class (as sent, before ageing) waiting for "
                                + "a slot of a GPU pool (scheduler replica only)")
                        .tag("pool", pool)
                        .tag("priority", priority)
                        .register(registry);
            }
        }
    }

    private Counter rejectedCounter(String reasonClass) {
        return Counter.builder("paia.tasks.rejected")
                .description("Tasks rejected by this replica's intake (REJECTED result and dead-letter copy committed)")
                .tag("reason_class", reasonClass)
                .register(registry);
    }

    public void taskAccepted() {
        accepted.increment();
    }

    /** A cancel_cmd committed by this replica's intake: {@code requested} (recorded), {@code ignored} or {@code rejected}. */
    public void cancelReceived(String verdict) {
        Counter.builder("paia.cancels")
                .description("cancel_cmd messages committed by this replica's intake, by verdict")
                .tag("verdict", verdict)
                .register(registry).increment();
    }

    public void taskRejected(String reason) {
        rejectedCounter(rejectionClass(reason)).increment();
    }

    /** The bounded class of a rejection reason (TaskParser's and TaskIntake's messages). */
    static String rejectionClass(String reason) {
        if (reason == null) {
            return "other";
        }
        if (reason.startsWith("duplicate task")) {
            return "duplicate";
        }
        if (reason.startsWith("unknown game")) {
            return "unknown_game";
        }
        if (reason.startsWith("unknown pool") || reason.startsWith("no pool")) {
            return "unknown_pool";
        }
        if (reason.startsWith("unknown priority")) {
            return "unknown_priority";
        }
        if (reason.startsWith("field ")) {
            return "invalid_field";
        }
        if (reason.startsWith("malformed JSON") || reason.startsWith("message ") || reason.startsWith("empty message")) {
            return "malformed";
        }
        return "other";
    }

    /** A failed step is tried again (a redelivery by an error handler). */
    public void retry(String route, FailureClass failureClass) {
        countByRoute("paia.retries", "Redeliveries of a failed step, by route and failure class", route, failureClass);
    }

    /** A step failed for good: its error handler gave up (or it had none). */
    public void terminalFailure(String route, FailureClass failureClass) {
        countByRoute("paia.failures", "Failures that ended a step for good (retries exhausted or not retried), by route "
                + "and class", route, failureClass);
    }

    private void countByRoute(String name, String description, String route, FailureClass failureClass) {
        Counter.builder(name).description(description)
                .tag("route", route == null ? "unknown" : route)
                .tag("class", failureClass.name())
                .register(registry).increment();
    }

    /**
     * A ledger entry this replica committed (it is the scheduler). Only the writer counts outcomes,
     * so re-reading the ledger (a restart, a takeover) never counts one again, and the first outcome
     * of an instance is the only one counted, as in the TaskBook.
     */
    public void committed(LedgerEntry entry) {
        try {
            if (entry.type() != LedgerEntry.Type.INSTANCE_OUTCOME) {
                return;
            }
            synchronized (countedInstances) {
                if (!countedInstances.add(entry.key())) {
                    return;
                }
            }
            Counter.builder("paia.instance.outcomes")
                    .description("Recorded outcomes of game instances, by outcome and failure source (none = succeeded)")
                    .tag("outcome", entry.outcome() == null ? "UNKNOWN" : entry.outcome().name())
                    .tag("source", entry.errorSource() == null ? "none" : entry.errorSource().name())
                    .register(registry).increment();
            if (entry.startedAt() != null && entry.finishedAt() != null && !entry.finishedAt().isBefore(entry.startedAt())) {
                gpuSeconds.increment(Duration.between(entry.startedAt(), entry.finishedAt()).toMillis() / 1000.0);
            }
        } catch (RuntimeException e) {
            LOG.warn("Metrics: ledger entry not counted: {}", e.toString());
        }
    }

    /** An entry read from the ledger (every replica): acceptance times, for the dispatch gap. */
    public void applied(LedgerEntry entry) {
        if (entry.roomId() == null) {
            return;
        }
        if (entry.type() == LedgerEntry.Type.TASK_ACCEPTED && entry.at() != null) {
            acceptedAt.putIfAbsent(entry.roomId(), entry.at());
        } else if (entry.type() == LedgerEntry.Type.TASK_COMPLETED) {
            acceptedAt.remove(entry.roomId());
        }
    }

    /** A pod as seen by the watch, the relist or the launch; {@code DELETED} forgets it. */
    public void podSeen(Pod pod, String action) {
        if (pod == null || pod.getMetadata() == null || pod.getMetadata().getName() == null) {
            return;
        }
        String name = pod.getMetadata().getName();
        if ("DELETED".equals(action)) {
            podPhases.remove(name);
            return;
        }
        String phase = pod.getStatus() == null || pod.getStatus().getPhase() == null ? "Pending" : pod.getStatus().getPhase();
        podPhases.put(name, PHASES.contains(phase) ? phase : "Unknown");
    }

    /** A full listing of game pods (the relist): pods missing from it are gone. */
    public void podsListed(Collection<Pod> listed) {
        Set<String> names = ConcurrentHashMap.newKeySet();
        for (Pod pod : listed) {
            if (pod != null && pod.getMetadata() != null && pod.getMetadata().getName() != null) {
                names.add(pod.getMetadata().getName());
                podSeen(pod, "RELISTED");
            }
        }
        podPhases.keySet().retainAll(names);
    }

    /** A game pod ended (its run goes to be finished). */
    public void gameEnded() {
        synchronized (gameEnds) {
            if (gameEnds.size() >= REMEMBERED_GAME_ENDS) {
                gameEnds.pollFirst();
            }
            gameEnds.addLast(clock.instant());
        }
    }

    /**
     * A game pod was created for a run of {@code roomId}. Pairs it with the oldest game end not yet
     * paired: the gap counts only when the run's task was accepted before that end (the work was
     * waiting); a task that arrived later measures idleness, not dispatch.
     */
    public void podCreated(String roomId) {
        Instant ended;
        synchronized (gameEnds) {
            ended = gameEnds.pollFirst();
        }
        if (ended == null) {
            return;
        }
        Instant accepted = roomId == null ? null : acceptedAt.get(roomId);
        if (accepted != null && !accepted.isAfter(ended)) {
            dispatchGap.record(Duration.between(ended, clock.instant()));
        }
    }
}
