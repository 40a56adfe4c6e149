package org.paia.dispatcher.pods;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The game-pod calls the dispatcher makes on the shared fabric8 client.
 *
 * <p>Pods are created here rather than with Camel's {@code kubernetes-pods} producer because that
 * producer builds a pod from a name, labels and a {@code PodSpec} only: it cannot carry the
 * template's annotations (the autoscaler's safe-to-evict, the room id) nor adopt an existing pod.
 */
public class PodClient {

    private static final Logger LOG = LoggerFactory.getLogger(PodClient.class);
    /** Times a release reads the pod again after a 409 (its node wrote a status meanwhile). */
    private static final int MAX_CONFLICTS = 5;

    private final KubernetesClient client;
    private final String namespace;

    public PodClient(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    /** Creates the pod, or adopts the one of that name that already exists (409: an earlier attempt made it). */
    public Pod createOrAdopt(Pod pod) {
        try {
            Pod created = client.pods().inNamespace(namespace).resource(pod).create();
            LOG.info("Pod {} created", pod.getMetadata().getName());
            return created;
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
            Pod existing = client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).get();
            if (existing == null) {
                throw e; // deleted between the conflict and the read: the next launch tries again
            }
            LOG.info("Pod {} already exists, adopted", pod.getMetadata().getName());
            return existing;
        }
    }

    public List<Pod> listGamePods() {
        return client.pods().inNamespace(namespace)
                .withLabel(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY).list().getItems();
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
     * Removes the dispatcher's finalizer and deletes the pod: called only once the pod's outcome is
     * on the ledger (or the pod is known to be lost or orphaned). A pod already gone is fine.
     */
    public void release(String podName) {
        var pod = client.pods().inNamespace(namespace).withName(podName);
        try {
            for (int conflicts = 0; ; conflicts++) {
                Pod current = pod.get();
                if (current == null) {
                    return;
                }
                try {
                    if (current.getMetadata().getFinalizers() != null
                            && current.getMetadata().getFinalizers().contains(PodNames.FINALIZER)) {
                        pod.edit(p -> new PodBuilder(p).editMetadata().removeFromFinalizers(PodNames.FINALIZER)
                                .endMetadata().build());
                    }
                } catch (KubernetesClientException e) {
                    // 409: the pod changed meanwhile (its node wrote a status); read it again.
                    if (e.getCode() == HttpURLConnection.HTTP_CONFLICT && conflicts < MAX_CONFLICTS) {
                        continue;
                    }
                    throw e;
                }
                if (current.getMetadata().getDeletionTimestamp() == null) {
                    pod.delete();
                }
                LOG.info("Pod {} released and deleted", podName);
                return;
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
                throw e;
            }
        }
    }
}
