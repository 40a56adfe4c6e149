package org.paia.dispatcher.watch;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.paia.dispatcher.pods.PodClient;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.schedule.TaskBook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns pod events — from the watch and from the periodic relist alike — into finished runs.
 * Both sources see the same pod end, so a run is claimed once here ({@link #finishing}) and
 * handed on only by whichever event claims it first.
 */
public class RunWatcher {

    private static final Logger LOG = LoggerFactory.getLogger(RunWatcher.class);

    private final TaskBook book;
    private final PodClient pods;
    private final Set<String> finishing = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> seenMissing = new ConcurrentHashMap<>();

    public RunWatcher(TaskBook book, PodClient pods) {
        this.book = book;
        this.pods = pods;
    }

    /**
     * One pod event ({@code ADDED}, {@code MODIFIED}, {@code DELETED}, or a relisted pod).
     *
     * @return the finished run to record, or null when there is nothing to do
     */
    public FinishedRun onPod(Pod pod, String action) {
        if (pod == null || pod.getMetadata() == null || pod.getMetadata().getName() == null) {
            return null;
        }
        String name = pod.getMetadata().getName();
        Optional<GameRun> run = book.runOfPod(name);
        if (run.isEmpty()) {
            return null;
        }
        Optional<PodOutcomes.Ended> ended = PodOutcomes.ended(pod);
        if (ended.isPresent()) {
            if (!finishing.add(name)) {
                return null;
            }
            PodOutcomes.Ended e = ended.get();
            LOG.info("Pod {} ended: {}{}", name, e.outcome(), e.reason() == null ? "" : " - " + e.reason());
            return new FinishedRun(run.get(), e.outcome(), e.reason(), e.startedAt(), e.finishedAt(), Map.of(), null);
        }
        if ("DELETED".equals(action) && !finishing.contains(name)) {
            lost(run.get(), "deleted before it ended");
        }
        return null;
    }

    /**
     * Called with a full listing of game pods (the {@code pod-relist} route): deletes leftovers whose
     * outcome is recorded, marks runs whose pod is gone as lost, and returns the listing so that each
     * pod is then handled like a watch event — whatever the watch missed is caught here.
     */
    public List<Pod> reconcile(List<Pod> listed) {
        collectLeftovers(listed);
        missing(listed, book.createdRuns());
        return listed;
    }

    /**
     * A created run whose pod is absent from two listings in a row (a listing may race with the
     * pod's creation) is lost.
     */
    void missing(List<Pod> listed, List<GameRun> launched) {
        Set<String> present = new HashSet<>();
        listed.forEach(p -> present.add(p.getMetadata().getName()));
        for (GameRun run : launched) {
            String name = run.podName();
            if (present.contains(name) || finishing.contains(name)) {
                seenMissing.remove(name);
            } else if (seenMissing.merge(name, 1L, Long::sum) >= 2) {
                seenMissing.remove(name);
                lost(run, "missing from the pod list");
            }
        }
    }

    private void lost(GameRun run, String how) {
        if (book.isRecorded(run.roomId(), run.instance())) {
            return;
        }
        LOG.warn("Pod {} {} before its outcome was recorded; the instance will be retried", run.podName(), how);
        book.podLost(run);
    }

    /** The run's outcome is recorded and its pod deleted: forget the claim. */
    public void done(GameRun run) {
        finishing.remove(run.podName());
    }

    /** Whether a listed pod belongs to the dispatcher. */
    public static boolean isGamePod(Pod pod) {
        return pod.getMetadata() != null && pod.getMetadata().getLabels() != null
                && PodNames.MANAGED_BY.equals(pod.getMetadata().getLabels().get(PodNames.MANAGED_BY_LABEL));
    }

    /** Finishing failed (storage or ledger unreachable): the next event or relist of the pod tries again. */
    public void finishFailed(org.apache.camel.Exchange exchange) {
        FinishedRun finished = exchange.getIn().getBody(FinishedRun.class);
        Exception cause = exchange.getProperty(org.apache.camel.Exchange.EXCEPTION_CAUGHT, Exception.class);
        LOG.warn("Finishing {} failed, will try again on the next relist: {}", finished.run(),
                cause == null ? "?" : cause.toString());
        finishing.remove(finished.run().podName());
    }

    /** Deletes pods that ended and whose outcome is already recorded (left over by an interrupted finish). */
    void collectLeftovers(List<Pod> listed) {
        for (Pod pod : listed) {
            String name = pod.getMetadata().getName();
            if (book.runOfPod(name).isEmpty() && PodOutcomes.ended(pod).isPresent() && recorded(pod)) {
                pods.delete(name);
            }
        }
    }

    private boolean recorded(Pod pod) {
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        Map<String, String> labels = pod.getMetadata().getLabels();
        if (annotations == null || labels == null) {
            return false;
        }
        String room = annotations.get(PodNames.ROOM_ANNOTATION);
        String instance = labels.get(PodNames.INSTANCE_LABEL);
        if (room == null || instance == null || !instance.matches("\\d{1,9}")) {
            return false;
        }
        return book.isRecorded(room, Integer.parseInt(instance));
    }
}
