package org.paia.dispatcher.pods;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.net.HttpURLConnection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The game-pod calls that camel-kubernetes' {@code kubernetes-pods} producer cannot make (4.18): creating a
 * pod with the template's annotations and finalizer (its {@code createPod} builds a pod from a name, labels
 * and a {@code PodSpec} only), removing the finalizer (it has no patch; its {@code updatePod} rebuilds the pod
 * from headers and would drop the finalizer), and the container's log (it has no log operation). The routes
 * list, get and delete pods with the component itself.
 */
public class PodClient {

    private static final Logger LOG = LoggerFactory.getLogger(PodClient.class);
    /** Times a finalizer removal reads the pod again after a 409 (its node wrote a status meanwhile). */
    private static final int MAX_CONFLICTS = 5;

    private final KubernetesClient client;
    private final String namespace;

    public PodClient(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    /**
     * Creates the pod; null when one of that name exists already (409: an earlier attempt made it), which the
     * route then gets and adopts.
     */
    public Pod create(Pod pod) {
        try {
            Pod created = client.pods().inNamespace(namespace).resource(pod).create();
            LOG.info("Pod {} created", pod.getMetadata().getName());
            return created;
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
            return null;
        }
    }

    /** The labels every game pod carries, for the relist ({@code listPodsByLabels}). */
    public java.util.Map<String, String> gamePodLabels() {
        return java.util.Map.of(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY);
    }

    /** The tail of the game container's log, or null when the API has none. */
    public String logTail(String podName, int maxBytes) {
        try {
            return client.pods().inNamespace(namespace).withName(podName).inContainer(PodRenderer.GAME_CONTAINER)
                    .limitBytes(maxBytes).getLog();
        } catch (KubernetesClientException e) {
            LOG.info("No log for pod {} from the API ({})", podName, e.getCode());
            return null;
        }
    }

    /**
     * Removes the dispatcher's finalizer: called only once the pod's outcome is on the ledger (or the pod is
     * known to be lost or orphaned), just before the route deletes it. A pod already gone is fine.
     */
    public void removeFinalizer(String podName) {
        var pod = client.pods().inNamespace(namespace).withName(podName);
        try {
            for (int conflicts = 0; ; conflicts++) {
                Pod current = pod.get();
                List<String> finalizers = current == null ? null : current.getMetadata().getFinalizers();
                int at = finalizers == null ? -1 : finalizers.indexOf(PodNames.FINALIZER);
                if (at < 0) {
                    return;
                }
                // One JSON patch that removes our finalizer only where it still is (the test op): a read and a
                // write, where edit() read the pod again and diffed two copies of it (issue 13's CPU profile).
                String path = "/metadata/finalizers/" + at;
                try {
                    pod.patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"test\",\"path\":\"" + path + "\",\"value\":\""
                            + PodNames.FINALIZER + "\"},{\"op\":\"remove\",\"path\":\"" + path + "\"}]");
                    return;
                } catch (KubernetesClientException e) {
                    // 409 or 422: the finalizers changed meanwhile (the test op failed); read the pod again.
                    boolean changed = e.getCode() == HttpURLConnection.HTTP_CONFLICT || e.getCode() == 422;
                    if (!changed || conflicts >= MAX_CONFLICTS) {
                        throw e;
                    }
                }
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
                throw e;
            }
        }
    }
}
