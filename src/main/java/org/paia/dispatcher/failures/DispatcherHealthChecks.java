package org.paia.dispatcher.failures;

import com.azure.storage.blob.BlobServiceClient;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Optional;
import org.paia.dispatcher.kafka.TransactionalWriter;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/**
 * Health of our own, beside Camel's checks (context, routes, Kafka consumers): liveness that means
 * progress (no fatal error, intake not stalled) and readiness that means the storage account and the
 * Kubernetes API answer. {@code application.yaml} puts them into the {@code liveness} and
 * {@code readiness} groups that the Deployment's probes call.
 */
public final class DispatcherHealthChecks {

    private DispatcherHealthChecks() {
    }

    /**
     * DOWN after a fatal error, or when the intake has lag but its committed offsets stopped moving; only
     * this process's own state, read from memory, so the probe never waits on Kafka or any other server.
     */
    public static class Liveness implements HealthIndicator {
        private final FatalErrors fatalErrors;
        private final TransactionalWriter intakeWriter;
        private final TransactionalWriter schedulerWriter;
        private final IntakeProgress progress;

        public Liveness(FatalErrors fatalErrors, TransactionalWriter intakeWriter, TransactionalWriter schedulerWriter,
                        IntakeProgress progress) {
            this.fatalErrors = fatalErrors;
            this.intakeWriter = intakeWriter;
            this.schedulerWriter = schedulerWriter;
            this.progress = progress;
        }

        @Override
        public Health health() {
            String fatal = fatalErrors.fatal();
            if (fatal == null && intakeWriter.fatalError() != null) {
                fatal = "intake producer: " + FailureClassifier.describe(intakeWriter.fatalError());
            }
            if (fatal == null && schedulerWriter.fatalError() != null) {
                fatal = "scheduler producer: " + FailureClassifier.describe(schedulerWriter.fatalError());
            }
            if (fatal != null) {
                return Health.down().withDetail("fatal", fatal).build();
            }
            // From memory (IntakeProgress checks on its own thread): answered at once, whatever the broker does.
            Optional<String> stalled = progress.stalled();
            if (stalled.isPresent()) {
                return Health.down().withDetail("stalled", stalled.get()).build();
            }
            String unknown = progress.unknown();
            // The broker being unreachable is readiness's business, not a reason to restart.
            return unknown == null ? Health.up().build() : Health.up().withDetail("progress", "unknown: " + unknown).build();
        }
    }

    /** UP while the storage account answers. */
    public static class Storage implements HealthIndicator {
        private final BlobServiceClient blobs;

        public Storage(BlobServiceClient blobs) {
            this.blobs = blobs;
        }

        @Override
        public Health health() {
            try {
                blobs.getProperties();
                return Health.up().build();
            } catch (RuntimeException e) {
                return Health.down().withDetail("error", FailureClassifier.describe(e)).build();
            }
        }
    }

    /** UP while the Kubernetes API answers a pod listing in our namespace. */
    public static class KubernetesApi implements HealthIndicator {
        private final KubernetesClient client;
        private final String namespace;

        public KubernetesApi(KubernetesClient client, String namespace) {
            this.client = client;
            this.namespace = namespace;
        }

        @Override
        public Health health() {
            try {
                client.pods().inNamespace(namespace).list(new ListOptionsBuilder().withLimit(1L).build());
                return Health.up().build();
            } catch (RuntimeException e) {
                return Health.down().withDetail("error", FailureClassifier.describe(e)).build();
            }
        }
    }
}
