package org.paia.dispatcher.pods;

import io.fabric8.kubernetes.api.model.Pod;
import java.net.HttpURLConnection;
import java.util.concurrent.ConcurrentHashMap;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.schedule.TaskBook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates a run's pod only while that cannot run its game twice. A launch can take seconds (programs to
 * fetch, retries), and meanwhile the pod of its run may be seen (a predecessor created it), end, be finished
 * and be deleted; a create after that would start the game again. So a pod is created only while its run is
 * still claimed and no pod of its name has been seen ({@link TaskBook#mayCreate}), and a pod seen while its
 * create is in flight is acted upon only once that create has returned ({@link #observed}): the check and the
 * create are one step against every observation.
 */
public class PodCreations {

    private static final Logger LOG = LoggerFactory.getLogger(PodCreations.class);

    private final TaskBook book;
    private final PodClient pods;
    /** Pod name → the lock of its create in flight. */
    private final ConcurrentHashMap<String, Object> inFlight = new ConcurrentHashMap<>();

    public PodCreations(TaskBook book, PodClient pods) {
        this.book = book;
        this.pods = pods;
    }

    /**
     * The {@code create-pod} step: the pod as created, or null when it was not (one of its name exists, or
     * has been seen, or the run is over), for the route to get and adopt it.
     */
    public Pod create(GameRun run, Pod pod) {
        String name = run.podName();
        Object lock = inFlight.computeIfAbsent(name, n -> new Object());
        synchronized (lock) {
            try {
                if (!book.mayCreate(run)) {
                    LOG.info("Pod {} not created: it has been seen already, or its run is over", name);
                    return null;
                }
                return pods.create(pod);
            } finally {
                inFlight.remove(name, lock);
            }
        }
    }

    /**
     * A pod of this name was seen (watch, listing, launch): recorded first, then any create of it still in
     * flight is waited for, so that nothing acts on the pod (finishes it, deletes it) before that create has
     * returned, and no create starts after this.
     */
    public void observed(String podName) {
        book.podObserved(podName);
        Object lock = inFlight.get(podName);
        if (lock != null) {
            synchronized (lock) {
                // the create in flight has returned
            }
        }
    }

    /**
     * The {@code adopt-pod} step, after a create that did not create: the pod as the API has it now, or null
     * when it is gone and its run is over (its outcome recorded, or the run given up), so there is nothing to
     * adopt. Gone while its run is still claimed: the launch is tried again.
     */
    public Pod adopted(Pod existing, GameRun run) {
        if (existing != null) {
            LOG.info("Pod {} already exists, adopted", run.podName());
            return existing;
        }
        if (!book.runOfPod(run.podName()).filter(claimed -> claimed == run).isPresent()) {
            LOG.info("Pod {} is gone and its run is over: nothing to launch", run.podName());
            return null;
        }
        if (book.isCancelled(run.roomId())) {
            // not created because its task was cancelled meanwhile: given back, the next pass records it cancelled
            LOG.info("Pod {} not created: its task is cancelled", run.podName());
            book.release(run);
            return null;
        }
        throw new KubernetesClientException("pod " + run.podName() + " is neither created nor there: the launch is "
                + "tried again", HttpURLConnection.HTTP_CONFLICT, null);
    }
}
