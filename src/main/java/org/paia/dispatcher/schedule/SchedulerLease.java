package org.paia.dispatcher.schedule;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's Kubernetes Lease as Camel's leader election writes it ({@code <lease-name>-scheduler}),
 * read to tell whether this process holds it: the Lease names this replica and was acquired or renewed
 * since a given instant. A replica restarted under the same pod name finds the Lease still naming it,
 * written by its dead predecessor; only its own acquisition or renewal makes it the holder.
 */
public class SchedulerLease {

    private static final Logger LOG = LoggerFactory.getLogger(SchedulerLease.class);

    private final KubernetesClient client;
    private final String namespace;
    private final String name;
    private final String podName;

    public SchedulerLease(KubernetesClient client, String namespace, String leaseName, String podName) {
        this.client = client;
        this.namespace = namespace;
        this.name = leaseName + "-" + Leadership.NAMESPACE;
        this.podName = podName;
    }

    /** Whether the Lease names this replica and this replica acquired or renewed it at or after {@code since}. */
    public boolean heldSince(Instant since) {
        Lease lease;
        try {
            lease = client.leases().inNamespace(namespace).withName(name).get();
        } catch (RuntimeException e) {
            LOG.debug("Cannot read Lease {}: {}", name, e.toString());
            return false;
        }
        if (lease == null || lease.getSpec() == null || !podName.equals(lease.getSpec().getHolderIdentity())) {
            return false;
        }
        return Stream.of(lease.getSpec().getRenewTime(), lease.getSpec().getAcquireTime())
                .filter(java.util.Objects::nonNull).map(ZonedDateTime::toInstant)
                .anyMatch(written -> !written.isBefore(since));
    }

    public String podName() {
        return podName;
    }
}
