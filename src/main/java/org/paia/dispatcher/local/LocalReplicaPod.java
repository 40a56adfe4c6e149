package org.paia.dispatcher.local;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import org.paia.dispatcher.config.DispatcherConfiguration;

/**
 * In a cluster the dispatcher runs in a pod, and leader election only considers Running, Ready pods
 * of the Deployment. Locally there is no such pod, so this puts one for this replica into the
 * Kubernetes API test server, as the Deployment would.
 */
public final class LocalReplicaPod {

    private LocalReplicaPod() {
    }

    public static Pod register(KubernetesClient client, String namespace, String replicaId) {
        Pod pod = new PodBuilder()
                .withNewMetadata().withName(replicaId).withNamespace(namespace)
                .addToLabels(DispatcherConfiguration.DISPATCHER_LABEL, DispatcherConfiguration.DISPATCHER_LABEL_VALUE)
                .endMetadata()
                .withNewSpec().addNewContainer().withName("paia-dispatcher").withImage("local").endContainer().endSpec()
                .withNewStatus().withPhase("Running").withStartTime(Instant.now().toString())
                .addNewCondition().withType("Ready").withStatus("True").endCondition()
                .endStatus().build();
        return client.pods().inNamespace(namespace).resource(pod).createOr(existing -> existing.update());
    }

    /**
     * The replica's pod Ready or not, as kubelet sets it from the readiness probe (or at once when the
     * container dies): Camel's leader election counts Ready pods only, so a standby takes the lease of a
     * replica that is not.
     */
    public static void setReady(KubernetesClient client, String namespace, String replicaId, boolean ready) {
        client.pods().inNamespace(namespace).withName(replicaId).editStatus(p -> new PodBuilder(p)
                .editStatus().withConditions(new io.fabric8.kubernetes.api.model.PodConditionBuilder()
                        .withType("Ready").withStatus(ready ? "True" : "False").build()).endStatus().build());
    }
}
