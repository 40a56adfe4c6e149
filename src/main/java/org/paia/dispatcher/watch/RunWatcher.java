package org.paia.dispatcher.watch;

import io.fabric8.kubernetes.api.model.Pod;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.camel.Exchange;
import org.paia.dispatcher.events.GameEvent;
import org.paia.dispatcher.ledger.FailureSource;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.LedgerWrite;
import org.paia.dispatcher.ledger.Outcome;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.schedule.Scheduler;
import org.paia.dispatcher.pods.PodCreations;
import org.paia.dispatcher.schedule.TaskBook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns pod events — from the watch and from the periodic relist alike — into finished runs.
 * Both sources see the same pod end, so a run is claimed once here ({@link #finishing}) and handed
 * on only by whichever event claims it first.
 *
 * <p>A game pod carries the dispatcher's finalizer, so a pod deleted by someone else (a node
 * scale-down, a manual delete) stays visible with a deletion timestamp until we let it go: such a
 * pod, and one the platform evicted, is a lost attempt — the instance is retried, never counted.
 */
public class RunWatcher {

    private static final Logger LOG = LoggerFactory.getLogger(RunWatcher.class);

    private final TaskBook book;
    private final Set<String> finishing = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> seenMissing = new ConcurrentHashMap<>();
    private final Map<String, Instant> stuckSince = new ConcurrentHashMap<>();
    private final Duration pendingTimeout;
    private final Clock clock;
    private final List<PodObserver> observers = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** The {@code podAction} of a pod a launch has just created or adopted. */
    public static final String LAUNCHED = "LAUNCHED";

    private final PodCreations creations;

    public RunWatcher(TaskBook book, PodCreations creations, Duration pendingTimeout, Clock clock) {
        this.book = book;
        this.creations = creations;
        this.pendingTimeout = pendingTimeout;
        this.clock = clock;
    }

    /**
     * One pod event ({@code ADDED}, {@code MODIFIED}, {@code DELETED}, a relisted or adopted pod).
     *
     * @return the {@link FinishedRun} to finish, a {@link PodRelease} of a pod lost before its outcome was
     *         recorded (its instance is retried), or null when there is nothing to do
     */
    public Object onPod(Pod pod, String action) {
        if (pod == null || pod.getMetadata() == null || pod.getMetadata().getName() == null) {
            return null;
        }
        observers.forEach(o -> o.podSeen(pod, action));
        String name = pod.getMetadata().getName();
        if (book.mayAct()) {
            creations.observed(name); // before anything acts on it: never created again, and no create in flight
        }
        if (LAUNCHED.equals(action)) {
            book.runOfPod(name).ifPresent(run -> observers.forEach(o -> o.podCreated(run.roomId())));
        }
        if ("DELETED".equals(action)) {
            book.podGone(name);
        } else if (PodNames.hasEnded(pod)) {
            book.podEnded(name, PodNames.describe(pod)); // its GPU is free; its uploads need not hold the slot
        }
        Optional<GameRun> run = book.runOfPod(name);
        if (run.isEmpty() || finishing.contains(name)) {
            return null;
        }
        Optional<PodOutcomes.Ended> ended = PodOutcomes.ended(pod);
        boolean deleted = pod.getMetadata().getDeletionTimestamp() != null || "DELETED".equals(action);
        if (book.isCancelled(run.get().roomId()) && (ended.isPresent() || deleted)) {
            return cancelledEnd(pod, action, run.get(), ended);
        }
        if (ended.isPresent() && !ended.get().platform() && !(deleted && ended.get().outcome() != Outcome.SUCCEEDED)) {
            if (!finishing.add(name)) {
                return null;
            }
            PodOutcomes.Ended e = ended.get();
            LOG.info("Pod {} ended: {}{}", name, e.outcome(), e.reason() == null ? "" : " - " + e.reason());
            observers.forEach(PodObserver::gameEnded);
            FailureSource source = e.outcome() == Outcome.SUCCEEDED ? null : FailureSource.USER_CODE;
            return new FinishedRun(run.get(), e.outcome(), e.reason(), source, e.startedAt(), e.finishedAt());
        }
        if (ended.isPresent() && ended.get().platform()) {
            return lost(run.get(), ended.get().reason());
        } else if (deleted) {
            return lost(run.get(), "deleted before it ended");
        }
        if (isRunning(pod) && book.mayAct() && !runningRecorded(run.get())) {
            stuckSince.remove(name);
            return new RunStarted(run.get(), clock.instant());
        }
        return stuck(pod, run.get());
    }

    /**
     * A pod of a cancelled task that ended or is being deleted (stopped by run-stop, or by anyone). Ended: its
     * run is finished as CANCELLED, its partial artifacts uploaded, unless the game succeeded before the pod was
     * deleted (the game's own end crossed the cancel: its success stands). Being deleted: the node stops the game,
     * and its end comes next. Gone without an end: lost, and the next pass records the instance cancelled.
     */
    private Object cancelledEnd(Pod pod, String action, GameRun run, Optional<PodOutcomes.Ended> ended) {
        String name = pod.getMetadata().getName();
        Instant stoppedAt = stopTime(pod);
        if (ended.isEmpty()) {
            if ("DELETED".equals(action)) {
                return lost(run, "deleted before it ended");
            }
            // A pod that never started its game (Pending: unschedulable, image not pulled) never ends once deleted:
            // the kubelet has nothing to stop. One whose game the node does not stop within its grace period and
            // another half minute is not waited for either. Both are finished as cancelled now.
            boolean neverRan = pod.getStatus() == null || pod.getStatus().getPhase() == null
                    || "Pending".equals(pod.getStatus().getPhase());
            Instant deadline = pod.getMetadata().getDeletionTimestamp() == null ? null
                    : deletionTime(pod).plusSeconds(30);
            if (!neverRan && (deadline == null || clock.instant().isBefore(deadline))) {
                return null;
            }
            if (!finishing.add(name)) {
                return null;
            }
            String reason = Scheduler.cancelledReason(book.cancelReason(run.roomId()));
            LOG.info("Pod {} stopped without ending ({}): CANCELLED ({})", name,
                    neverRan ? "its game never started" : "the node did not stop it in time", reason);
            observers.forEach(PodObserver::gameEnded);
            return new FinishedRun(run, Outcome.CANCELLED, reason, null, null, clock.instant());
        }
        if (!finishing.add(name)) {
            return null;
        }
        PodOutcomes.Ended e = ended.get();
        boolean ownSuccess = e.outcome() == Outcome.SUCCEEDED && !e.platform()
                && (stoppedAt == null || (e.finishedAt() != null && e.finishedAt().isBefore(stoppedAt)));
        observers.forEach(PodObserver::gameEnded);
        if (ownSuccess) {
            LOG.info("Pod {} ended: SUCCEEDED before its task's cancel stopped it", name);
            return new FinishedRun(run, Outcome.SUCCEEDED, e.reason(), null, e.startedAt(), e.finishedAt());
        }
        String reason = Scheduler.cancelledReason(book.cancelReason(run.roomId()));
        LOG.info("Pod {} ended: CANCELLED ({})", name, reason);
        return new FinishedRun(run, Outcome.CANCELLED, reason, null, e.startedAt(),
                e.finishedAt() == null ? clock.instant() : e.finishedAt());
    }

    /**
     * When the pod's delete was asked for: its deletion timestamp less its grace period (the API server sets the
     * timestamp to the request's time plus the grace period); null when it is not being deleted.
     */
    private static Instant stopTime(Pod pod) {
        Instant deletedAt = deletionTime(pod);
        Long grace = pod.getMetadata().getDeletionGracePeriodSeconds();
        return deletedAt == null || grace == null ? deletedAt : deletedAt.minusSeconds(grace);
    }

    private static Instant deletionTime(Pod pod) {
        String at = pod.getMetadata().getDeletionTimestamp();
        try {
            return at == null ? null : Instant.parse(at);
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }

    private static boolean isRunning(Pod pod) {
        return pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
    }

    private boolean runningRecorded(GameRun run) {
        TaskBook.Stage recorded = book.recordedStage(run.roomId(), run.instance());
        return recorded != null
                && recorded.compareTo(new TaskBook.Stage(run.attempt(), LedgerEntry.Type.INSTANCE_RUNNING.stage())) >= 0;
    }

    /**
     * The RUNNING stage of a run, for the {@code run-running} route to record ({@code paia-tx:ledger}) with its
     * event. Whichever reports it first writes it: the ledger drops a stage recorded already (a later watch
     * event, the run's UPLOADING, which records RUNNING too when it is missing).
     */
    public LedgerWrite runningRecord(RunStarted started) {
        GameRun run = started.run();
        return LedgerWrite.of(LedgerEntry.stage(LedgerEntry.Type.INSTANCE_RUNNING, run.roomId(), run.instance(),
                        run.attempt(), run.podName(), started.startedAt()))
                .with(GameEvent.instance(GameEvent.Type.RUNNING, run.roomId(), run.instance(), run.attempt(),
                        run.podName(), started.startedAt()));
    }

    /** Recording RUNNING failed: nothing is lost, the next event of the pod or its UPLOADING records it. */
    public void runningFailed(Exchange exchange) {
        RunStarted started = exchange.getMessage().getBody(RunStarted.class);
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        LOG.warn("Recording that {} runs failed; its next pod event or its upload records it: {}",
                started == null ? "a run" : started.run(), cause == null ? "?" : cause.toString());
    }

    /**
     * A pod that cannot start (image pull failure, unschedulable) for longer than
     * {@code paia.kubernetes.pending-timeout} fails its instance: retrying would not help, and the
     * reason says what to fix. The relist re-examines pending pods, so no new event is needed.
     */
    private FinishedRun stuck(Pod pod, GameRun run) {
        String name = pod.getMetadata().getName();
        Optional<String> why = PodOutcomes.stuck(pod);
        if (why.isEmpty()) {
            stuckSince.remove(name);
            return null;
        }
        Instant since = stuckSince.computeIfAbsent(name, n -> clock.instant());
        if (Duration.between(since, clock.instant()).compareTo(pendingTimeout) < 0 || !finishing.add(name)) {
            return null;
        }
        stuckSince.remove(name);
        String reason = "pod did not start within " + pendingTimeout.toSeconds() + " s, " + why.get();
        LOG.warn("Pod {} failed to start: {}", name, reason);
        return new FinishedRun(run, Outcome.FAILED, reason, FailureSource.PLATFORM, null, clock.instant());
    }

    /** A full listing, reconciled: the pods to handle like watch events, and the pods to let go. */
    public record Reconciled(List<Pod> pods, List<PodRelease> releases) {
    }

    /**
     * Called with a full listing of game pods (the {@code pod-relist} route): finds pods that belong to no
     * open run and runs whose pod is gone (lost), for the route to release, and returns the listing so that
     * each pod is then handled like a watch event — whatever the watch missed is caught here. Nothing but
     * bookkeeping on a replica that does not schedule.
     */
    public Reconciled reconcile(List<Pod> listed) {
        observers.forEach(o -> o.podsListed(listed));
        Map<String, PodNames.Listed> pods = PodNames.listed(listed);
        book.podsListed(pods);
        if (!book.mayAct()) {
            // Not the scheduler (Camel may start the master: routes on a replica that does not hold the
            // Lease yet), or not caught up: a pod this book does not know may be the leader's newest.
            return new Reconciled(List.of(), List.of());
        }
        List<PodRelease> releases = new ArrayList<>(leftovers(pods));
        releases.addAll(missing(pods.keySet(), book.createdRuns()));
        return new Reconciled(listed, releases);
    }

    /**
     * A created run whose pod is absent from two listings in a row (a listing may race with the pod's
     * creation) is lost. With the finalizer this takes a forced removal, but it must not strand a run.
     */
    List<PodRelease> missing(Set<String> present, List<GameRun> launched) {
        List<PodRelease> releases = new ArrayList<>();
        for (GameRun run : launched) {
            String name = run.podName();
            if (present.contains(name) || finishing.contains(name)) {
                seenMissing.remove(name);
            } else if (seenMissing.merge(name, 1L, Long::sum) >= 2) {
                seenMissing.remove(name);
                PodRelease release = lost(run, "missing from the pod list");
                if (release != null) {
                    releases.add(release);
                }
            }
        }
        return releases;
    }

    private PodRelease lost(GameRun run, String how) {
        if (book.isRecorded(run.roomId(), run.instance())) {
            return null;
        }
        LOG.warn("Pod {} lost ({}) before its outcome was recorded: platform failure, the instance will be retried",
                run.podName(), how);
        book.podLost(run);
        return new PodRelease(run.podName(), "lost: " + how);
    }

    /** The pod of a run, to let go ({@code pod-release}): its outcome is recorded, or its launch failed for good. */
    public PodRelease releaseOf(GameRun run, String why) {
        return new PodRelease(run.podName(), why);
    }

    public void addObserver(PodObserver observer) {
        observers.add(observer);
    }

    /** The run's outcome is recorded and its pod released: forget the claim. */
    public void done(GameRun run) {
        finishing.remove(run.podName());
    }

    /** Finishing failed (storage or ledger unreachable): the next event or relist of the pod tries again. */
    public void finishFailed(Exchange exchange) {
        FinishedRun finished = exchange.getVariable("finished", FinishedRun.class);
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        LOG.warn("Finishing {} failed, will try again on the next relist: {}", finished.run(),
                cause == null ? "?" : cause.toString());
        finishing.remove(finished.run().podName());
    }

    /**
     * Pods that no open run will adopt: their outcome is already recorded (an interrupted finish), their
     * task is unknown or completed (an orphan), or they belong to an older attempt.
     */
    List<PodRelease> leftovers(Map<String, PodNames.Listed> listed) {
        List<PodRelease> releases = new ArrayList<>();
        listed.forEach((name, pod) -> {
            if (book.runOfPod(name).isPresent() || finishing.contains(name)) {
                return;
            }
            if (!pod.readable() || book.isStale(pod.room(), pod.instance(), pod.attempt())) {
                LOG.info("Pod {} belongs to no open run: released", name);
                releases.add(new PodRelease(name, "belongs to no open run"));
            }
        });
        return releases;
    }
}
