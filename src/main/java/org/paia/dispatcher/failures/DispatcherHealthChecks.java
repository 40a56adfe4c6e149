package org.paia.dispatcher.failures;

import com.azure.storage.blob.BlobServiceClient;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.paia.dispatcher.kafka.TransactionalWriter;

/**
 * Camel health checks of our own, beside Camel's Kafka consumer checks: liveness that means progress
 * (no fatal error, intake not stalled) and readiness that means the storage account and the
 * Kubernetes API answer. They appear in {@code /actuator/health/liveness} and {@code /readiness}.
 */
public final class DispatcherHealthChecks {

    private DispatcherHealthChecks() {
    }

    /** DOWN after a fatal error, or when the intake has lag but its committed offsets stopped moving. */
    public static class Liveness extends AbstractHealthCheck {
        private final FatalErrors fatalErrors;
        private final TransactionalWriter intakeWriter;
        private final TransactionalWriter schedulerWriter;
        private final IntakeProgress progress;

        public Liveness(FatalErrors fatalErrors, TransactionalWriter intakeWriter, TransactionalWriter schedulerWriter,
                        IntakeProgress progress) {
            super("paia", "dispatcher-progress");
            this.fatalErrors = fatalErrors;
            this.intakeWriter = intakeWriter;
            this.schedulerWriter = schedulerWriter;
            this.progress = progress;
        }

        @Override
        public boolean isReadiness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            String fatal = fatalErrors.fatal();
            if (fatal == null && intakeWriter.fatalError() != null) {
                fatal = "intake producer: " + intakeWriter.fatalError().getMessage();
            }
            if (fatal == null && schedulerWriter.fatalError() != null) {
                fatal = "scheduler producer: " + schedulerWriter.fatalError().getMessage();
            }
            if (fatal != null) {
                builder.detail("fatal", fatal).message("fatal error: " + fatal).down();
                return;
            }
            try {
                Optional<String> stalled = progress.stalled();
                if (stalled.isPresent()) {
                    builder.detail("stalled", stalled.get()).message("intake stalled: " + stalled.get()).down();
                    return;
                }
            } catch (Exception e) {
                // The broker being unreachable is readiness's business, not a reason to restart.
                builder.detail("progress", "unknown: " + FailureClassifier.describe(e));
            }
            builder.up();
        }
    }

    /** UP while the storage account answers. */
    public static class Storage extends AbstractHealthCheck {
        private final BlobServiceClient blobs;

        public Storage(BlobServiceClient blobs) {
            super("paia", "blob-storage");
            this.blobs = blobs;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            try {
                blobs.getProperties();
                builder.up();
            } catch (RuntimeException e) {
                builder.message("storage unreachable: " + FailureClassifier.describe(e)).down();
            }
        }
    }

    /** UP while the Kubernetes API answers a pod listing in our namespace. */
    public static class KubernetesApi extends AbstractHealthCheck {
        private final KubernetesClient client;
        private final String namespace;

        public KubernetesApi(KubernetesClient client, String namespace) {
            super("paia", "kubernetes-api");
            this.client = client;
            this.namespace = namespace;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            try {
                client.pods().inNamespace(namespace).list(new ListOptionsBuilder().withLimit(1L).build());
                builder.up();
            } catch (RuntimeException e) {
                builder.message("Kubernetes API unreachable: " + FailureClassifier.describe(e)).down();
            }
        }
    }
}
