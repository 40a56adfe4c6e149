package org.paia.dispatcher.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.UUID;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.component.kubernetes.KubernetesConfiguration;
import org.apache.camel.component.kubernetes.cluster.KubernetesClusterService;
import org.apache.camel.component.kubernetes.cluster.LeaseResourceType;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.config.DispatcherConfiguration;
import org.paia.dispatcher.failures.FatalErrors;
import org.paia.dispatcher.kafka.TransactionalWriter;
import org.paia.dispatcher.ledger.LedgerReader;
import org.paia.dispatcher.local.LocalReplicaPod;
import org.paia.dispatcher.local.LocalServers;
import org.paia.dispatcher.support.DispatcherIT;
import org.paia.dispatcher.task.TaskParser;

/**
 * When a replica schedules, on the real servers: a second replica's leader election (Camel's
 * Kubernetes cluster service on a Lease of its own) beside the running dispatcher, with its own book,
 * ledger reader and scheduler producer.
 */
class LeadershipIT extends DispatcherIT {

    private static final String NAMESPACE = "paia";

    // Issue 11, point 3. A replica restarted under its pod name finds the Lease still naming it, written
    // by its dead predecessor, while it is not Ready and so not even a candidate. Camel's notifier reports
    // whoever the Lease names, so the old code called it the scheduler at once (and fenced the real one).
    @Test
    void aRestartedReplicaNamedByItsPredecessorsLeaseSchedulesOnlyOnceItHoldsTheLease() throws Exception {
        String replica = "replica-x-" + UUID.randomUUID().toString().substring(0, 8);
        String leaseName = "leadership-it-" + replica;
        KubernetesClient k8s = testKubernetes();
        ZonedDateTime anHourAgo = ZonedDateTime.now().minusHours(1);
        k8s.leases().inNamespace(NAMESPACE).resource(new LeaseBuilder().withNewMetadata()
                .withName(leaseName + "-" + Leadership.NAMESPACE).endMetadata().withNewSpec()
                .withHolderIdentity(replica).withAcquireTime(anHourAgo).withRenewTime(anHourAgo)
                .withLeaseDurationSeconds(1).endSpec().build()).create();
        LocalReplicaPod.register(k8s, NAMESPACE, replica);
        setReady(k8s, replica, false); // restarted: not Ready until its readiness probe passes

        // Its own client: Camel's cluster view closes the client it was given when it stops.
        KubernetesClient electionClient = LocalServers.kubernetesServer().createClient(b -> b.withConfig(
                new ConfigBuilder().withMasterUrl("http://127.0.0.1:" + LocalServers.kubernetesServer().getPort())
                        .withNamespace(NAMESPACE).withUserAgent(TEST_USER_AGENT).build()));
        KubernetesConfiguration configuration = new KubernetesConfiguration();
        configuration.setKubernetesClient(electionClient);
        KubernetesClusterService election = new KubernetesClusterService(configuration);
        election.setLeaseResourceType(LeaseResourceType.Lease);
        election.setKubernetesNamespace(NAMESPACE);
        election.setKubernetesResourceName(leaseName);
        election.setPodName(replica);
        election.setClusterLabels(Map.of(DispatcherConfiguration.DISPATCHER_LABEL, DispatcherConfiguration.DISPATCHER_LABEL_VALUE));
        election.setLeaseDurationMillis(1000);
        election.setRenewDeadlineMillis(800);
        election.setRetryPeriodMillis(100);

        ObjectMapper mapper = new ObjectMapper();
        TaskBook book = new TaskBook(new TaskParser(mapper, properties.getLimits(), properties.getGames().keySet(),
                properties.getStorage().getAccountUrl()));
        String bootstrap = properties.getKafka().getBootstrapServers();
        LedgerReader reader = new LedgerReader(bootstrap, Map.of(), properties.getKafka().getLedgerTopic(), book, mapper);
        DefaultCamelContext camel = new DefaultCamelContext();
        try (TransactionalWriter writer = new TransactionalWriter(bootstrap, "leadership-it-" + replica, Map.of())) {
            Leadership leadership = new Leadership(election, book, reader, writer,
                    new SchedulerLease(k8s, NAMESPACE, leaseName, replica), new FatalErrors(camel), Duration.ofMillis(100), Duration.ofSeconds(1));
            reader.start();
            // the dispatcher's pod-relist route; pods are not this test's subject
            camel.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from(Leadership.RELIST).log("relist");
                }
            });
            leadership.beforeApplicationStart(camel);
            camel.start();
            leadership.afterApplicationStart(camel);
            leadership.onApplicationEvent(null);
            Instant started = Instant.now();
            try {
                // The cause: Camel's view names the replica leader, from the stale Lease.
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> election.getView(Leadership.NAMESPACE).getLocalMember().isLeader());
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3))
                        .until(() -> !leadership.isLeader() && !book.mayAct());

                setReady(k8s, replica, true);
                await().atMost(Duration.ofSeconds(30)).until(leadership::isLeader);
                await().atMost(Duration.ofSeconds(30)).until(book::mayAct);
                Lease lease = k8s.leases().inNamespace(NAMESPACE).withName(leaseName + "-" + Leadership.NAMESPACE).get();
                assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(replica);
                assertThat(lease.getSpec().getRenewTime().toInstant()).as("renewed by this process").isAfter(started);

                // Found by the rolling-update chaos test: a leader whose pod stops being Ready loses the Lease,
                // and Camel's notifier then names it again from its own last renewal (it is no candidate, so
                // nobody else may acquire yet). It must not take that for a new term, which would fence the
                // replica that takes over next.
                setReady(k8s, replica, false);
                await().atMost(Duration.ofSeconds(30)).until(() -> !leadership.isLeader());
                await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(() -> !leadership.isLeader());
            } finally {
                leadership.close();
                camel.stop();
                reader.stop();
                k8s.pods().inNamespace(NAMESPACE).withName(replica).delete();
            }
        }
    }

    private static void setReady(KubernetesClient k8s, String replica, boolean ready) {
        k8s.pods().inNamespace(NAMESPACE).withName(replica).editStatus(p -> new PodBuilder(p).editStatus()
                .withConditions(new PodConditionBuilder().withType("Ready").withStatus(ready ? "True" : "False").build())
                .endStatus().build());
    }
}
