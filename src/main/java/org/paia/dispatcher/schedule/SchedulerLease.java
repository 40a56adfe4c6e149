package org.paia.dispatcher.schedule;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's Kubernetes Lease as Camel's leader election writes it ({@code <lease-name>-scheduler}),
 * read to tell whether this process holds it. Camel's notifier reports whoever the Lease names, also to
 * a replica that is not a candidate: restarted under the same pod name, it finds the Lease still naming
 * it, written by its dead predecessor; marked not Ready after it led, it finds its own last renewal. So
 * this replica holds the Lease only when the Lease names it, this process acquired or renewed it, that
 * renewal has not expired, and the replica's pod is Running and Ready — a candidate, by the same rule
 * Camel's election uses.
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

    /** Whether this replica holds the Lease, as far as the API server could tell. */
    public enum Held { YES, NO, UNKNOWN }

    /**
     * Whether this replica holds the Lease: it names this replica, was acquired or renewed at or after
     * {@code since} (by this process) and within the last {@code duration}, and this replica's pod is
     * Running and Ready.
     */
    public boolean heldSince(Instant since, Duration duration) {
        return held(since, duration) == Held.YES;
    }

    /** {@link #heldSince}, telling "no" apart from "the Lease or the pod could not be read". */
    public Held held(Instant since, Duration duration) {
        Lease lease;
        Pod self;
        try {
            lease = client.leases().inNamespace(namespace).withName(name).get();
            self = client.pods().inNamespace(namespace).withName(podName).get();
        } catch (RuntimeException e) {
            LOG.debug("Cannot read Lease {} or pod {}: {}", name, podName, e.toString());
            return Held.UNKNOWN;
        }
        if (lease == null || lease.getSpec() == null || !podName.equals(lease.getSpec().getHolderIdentity())
                || !isCandidate(self)) {
            return Held.NO;
        }
        Instant expired = Instant.now().minus(duration);
        return Stream.of(lease.getSpec().getRenewTime(), lease.getSpec().getAcquireTime())
                .filter(java.util.Objects::nonNull).map(ZonedDateTime::toInstant)
                .anyMatch(written -> !written.isBefore(since) && written.isAfter(expired)) ? Held.YES : Held.NO;
    }

    /** Running and Ready: what Camel's election requires of a candidate (and Kubernetes of a Service endpoint). */
    static boolean isCandidate(Pod pod) {
        return pod != null && pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase())
                && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    public String podName() {
        return podName;
    }
}
