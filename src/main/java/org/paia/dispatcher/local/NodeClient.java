package org.paia.dispatcher.local;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * What kubelet and the Deployment controller do in a cluster (pod status, the replica's own pod)
 * the local profile does through this second client, with its own User-Agent, so that those calls
 * are never mistaken for the dispatcher's (RbacIT checks the dispatcher's against its Role). Not a
 * {@link KubernetesClient} bean itself: Camel autowires the one dispatcher client.
 */
public record NodeClient(KubernetesClient client) implements AutoCloseable {

    public static final String USER_AGENT = "paia-local-node";

    /** A client to the same API server as the dispatcher's, under the local node's User-Agent. */
    public static NodeClient to(KubernetesClient dispatcherClient) {
        return new NodeClient(new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(dispatcherClient.getConfiguration()).withUserAgent(USER_AGENT).build())
                .build());
    }

    @Override
    public void close() {
        client.close();
    }
}
