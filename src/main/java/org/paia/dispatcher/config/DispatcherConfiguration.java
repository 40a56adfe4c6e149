package org.paia.dispatcher.config;

import com.azure.storage.blob.BlobServiceClient;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.paia.dispatcher.download.ProgramDownloader;
import org.paia.dispatcher.failures.DispatcherHealthChecks;
import org.paia.dispatcher.failures.FatalErrors;
import org.paia.dispatcher.failures.Failures;
import org.paia.dispatcher.failures.RetryMetrics;
import org.paia.dispatcher.failures.IntakeProgress;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.intake.TaskIntake;
import org.paia.dispatcher.kafka.TransactionalCommitFactory;
import org.paia.dispatcher.kafka.TransactionalWriter;
import org.paia.dispatcher.ledger.Ledger;
import org.paia.dispatcher.ledger.LedgerLifecycle;
import org.paia.dispatcher.ledger.LedgerReader;
import org.paia.dispatcher.pods.GameLauncher;
import org.paia.dispatcher.pods.PodClient;
import org.paia.dispatcher.pods.PodRenderer;
import org.paia.dispatcher.results.ArtifactStore;
import org.paia.dispatcher.results.ResultPublisher;
import org.paia.dispatcher.results.RunFinisher;
import org.apache.camel.component.kubernetes.KubernetesConfiguration;
import org.apache.camel.component.kubernetes.cluster.KubernetesClusterService;
import org.apache.camel.component.kubernetes.cluster.LeaseResourceType;
import org.paia.dispatcher.schedule.Leadership;
import org.paia.dispatcher.schedule.PassRequests;
import org.paia.dispatcher.schedule.Scheduler;
import org.paia.dispatcher.schedule.SchedulerLease;
import org.paia.dispatcher.schedule.TaskBook;
import org.paia.dispatcher.task.TaskParser;
import org.paia.dispatcher.watch.RunWatcher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;

/** Wires the pipeline's beans, the ones the YAML routes call by name. */
@Configuration(proxyBeanMethods = false)
public class DispatcherConfiguration {

    /** The label every dispatcher pod carries (the Deployment's selector). */
    public static final String DISPATCHER_LABEL = "app.kubernetes.io/name";
    public static final String DISPATCHER_LABEL_VALUE = "paia-dispatcher";

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    @Bean
    TaskParser taskParser(ObjectMapper mapper, DispatcherProperties properties, BlobServiceClient blobs) {
        String account = properties.getStorage().getAccountUrl();
        return new TaskParser(mapper, properties.getLimits(), properties.getGames().keySet(),
                account == null || account.isBlank() ? blobs.getAccountUrl() : account);
    }

    @Bean
    TopicSetup topicSetup(DispatcherProperties properties) {
        TopicSetup setup = new TopicSetup(properties.getKafka(), properties.getLedger().getTopicConfig());
        setup.createMissingTopics();
        return setup;
    }

    @Bean
    TaskBook taskBook(TaskParser parser) {
        return new TaskBook(parser);
    }

    /** For read-process-write on the task topic: {@code kafkaManualCommitFactory=#transactionalCommitFactory}. */
    @Bean
    TransactionalCommitFactory transactionalCommitFactory() {
        return new TransactionalCommitFactory();
    }

    @Bean(destroyMethod = "close")
    TransactionalWriter intakeWriter(DispatcherProperties properties, TopicSetup topics,
                                     io.micrometer.core.instrument.MeterRegistry registry) {
        DispatcherProperties.Kafka kafka = properties.getKafka();
        TransactionalWriter writer = new TransactionalWriter(kafka.getBootstrapServers(),
                kafka.getTransactionalIdPrefix() + "-intake-" + kafka.getReplicaId(), kafka.getClientProperties())
                .withMetrics(registry, "intake").recoveringTimedOutTransactions();
        // Fence our previous incarnation now: its open transaction (a kill -9 mid-write) is aborted at once,
        // instead of holding back every read_committed reader until the transaction times out.
        writer.tryFence();
        return writer;
    }

    @Bean(destroyMethod = "close")
    TransactionalWriter schedulerWriter(DispatcherProperties properties, TopicSetup topics,
                                        io.micrometer.core.instrument.MeterRegistry registry) {
        DispatcherProperties.Kafka kafka = properties.getKafka();
        // One id for whichever replica schedules: a newer scheduler fences an older one's late writes.
        return new TransactionalWriter(kafka.getBootstrapServers(), kafka.getTransactionalIdPrefix() + "-scheduler",
                kafka.getClientProperties()).withMetrics(registry, "scheduler");
    }

    @Bean
    Ledger ledger(TransactionalWriter schedulerWriter, ObjectMapper mapper, DispatcherProperties properties,
                  TaskBook book) {
        return new Ledger(schedulerWriter, mapper, properties.getKafka().getLedgerTopic(), book);
    }

    @Bean
    LedgerLifecycle ledgerLifecycle(TaskBook book, Ledger ledger, DispatcherProperties properties, Clock clock) {
        return new LedgerLifecycle(book, ledger, properties.getLedger().getDuplicateWindow(), clock);
    }

    @Bean
    LedgerReader ledgerReader(DispatcherProperties properties, TaskBook book, ObjectMapper mapper, TopicSetup topics) {
        DispatcherProperties.Kafka kafka = properties.getKafka();
        return new LedgerReader(kafka.getBootstrapServers(), kafka.getClientProperties(), kafka.getLedgerTopic(),
                book, mapper);
    }

    @Bean
    TaskIntake taskIntake(TaskParser parser, TransactionalWriter intakeWriter, Ledger ledger, ObjectMapper mapper,
                          DispatcherProperties properties, Clock clock, TaskBook book) {
        return new TaskIntake(parser, intakeWriter, ledger, mapper, properties.getKafka().getResultTopic(),
                properties.getKafka().getDeadLetterTopic(), clock, book);
    }

    @Bean
    Workspace workspace(DispatcherProperties properties, ObjectMapper mapper) {
        return new Workspace(properties.getWorkspace(), properties.getKubernetes().getPodWorkspacePath(), mapper);
    }

    @Bean
    PodRenderer podRenderer(DispatcherProperties properties, ResourceLoader resources) {
        String location = properties.getKubernetes().getPodTemplate();
        Resource template = resources.getResource(location);
        try (InputStream in = template.getInputStream()) {
            return new PodRenderer(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("paia.kubernetes.pod-template: cannot read " + location, e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("paia.kubernetes.pod-template: " + location + " is not a valid pod "
                    + "template: " + e.getMessage(), e);
        }
    }

    @Bean
    PodClient podClient(KubernetesClient client, DispatcherProperties properties) {
        return new PodClient(client, properties.getKubernetes().getNamespace());
    }

    @Bean
    ProgramDownloader programDownloader(BlobServiceClient blobs, DispatcherProperties properties) {
        return new ProgramDownloader(blobs, properties.getLimits().getMaxFilesPerProgram(),
                properties.getLimits().getMaxProgramBytes());
    }

    /** The threads the scheduling pass launches game runs on (the {@code schedule-pass} route's split). */
    @Bean(destroyMethod = "shutdownNow")
    ExecutorService launchPool(CamelContext camel, DispatcherProperties properties) {
        return camel.getExecutorServiceManager().newFixedThreadPool(this, "launch",
                properties.getScheduler().getLaunchThreads());
    }

    /** The threads that fetch the programs of upcoming tasks ahead of their launch. */
    @Bean(destroyMethod = "shutdownNow")
    ExecutorService prefetchPool(CamelContext camel) {
        return camel.getExecutorServiceManager().newFixedThreadPool(this, "prefetch", 2);
    }

    @Bean
    GameLauncher gameLauncher(ProgramDownloader downloader, Workspace workspace, PodRenderer renderer, PodClient pods,
                              DispatcherProperties properties, ExecutorService prefetchPool) {
        return new GameLauncher(downloader, workspace, renderer, pods, properties, prefetchPool);
    }

    @Bean
    Scheduler scheduler(TaskBook book, Ledger ledger, PodClient pods, DispatcherProperties properties, Clock clock) {
        return new Scheduler(book, ledger, pods, properties.getMaxAttempts(),
                properties.getScheduler().getMaxActivePods(), properties.getScheduler().getPrefetchRooms(), clock);
    }

    @Bean
    KubernetesClusterService kubernetesClusterService(KubernetesClient client, DispatcherProperties properties) {
        KubernetesConfiguration configuration = new KubernetesConfiguration();
        configuration.setKubernetesClient(client);
        KubernetesClusterService service = new KubernetesClusterService(configuration);
        DispatcherProperties.LeaderElection election = properties.getKubernetes().getLeaderElection();
        service.setId("paia-leader-election");
        service.setLeaseResourceType(LeaseResourceType.Lease);
        service.setKubernetesNamespace(properties.getKubernetes().getNamespace());
        service.setKubernetesResourceName(election.getLeaseName());
        service.setPodName(properties.getKafka().getReplicaId());
        // Candidates are the Running and Ready pods with this label (the Deployment's pods), so the
        // replica id must be the pod name (PAIA_KAFKA_REPLICA_ID from metadata.name in k8s/).
        service.setClusterLabels(Map.of(DISPATCHER_LABEL, DISPATCHER_LABEL_VALUE));
        service.setLeaseDurationMillis(election.getLeaseDuration().toMillis());
        service.setRenewDeadlineMillis(election.getRenewDeadline().toMillis());
        service.setRetryPeriodMillis(election.getRetryPeriod().toMillis());
        return service;
    }

    @Bean
    SchedulerLease schedulerLease(KubernetesClient client, DispatcherProperties properties) {
        return new SchedulerLease(client, properties.getKubernetes().getNamespace(),
                properties.getKubernetes().getLeaderElection().getLeaseName(), properties.getKafka().getReplicaId());
    }

    @Bean(destroyMethod = "close")
    Leadership leadership(KubernetesClusterService clusterService, TaskBook book, LedgerReader reader,
                          TransactionalWriter schedulerWriter, PodClient pods, SchedulerLease lease,
                          FatalErrors fatalErrors, DispatcherProperties properties) {
        return new Leadership(clusterService, book, reader, schedulerWriter, pods, lease, fatalErrors,
                properties.getKubernetes().getLeaderElection().getRetryPeriod(),
                properties.getKubernetes().getLeaderElection().getLeaseDuration());
    }

    /** A scheduling pass as soon as a task is accepted (on the scheduler replica), not on the next tick. */
    @Bean
    PassRequests passRequests(ProducerTemplate template, Leadership leadership, TaskBook book, LedgerReader reader) {
        PassRequests requests = new PassRequests(template, leadership, book);
        reader.addAppliedListener(requests::applied);
        return requests;
    }

    @Bean
    RetryMetrics retryMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
        return new RetryMetrics(registry);
    }

    @Bean
    Failures failures() {
        return new Failures();
    }

    @Bean
    FatalErrors fatalErrors(CamelContext camel) {
        return new FatalErrors(camel);
    }

    @Bean(destroyMethod = "close")
    IntakeProgress intakeProgress(DispatcherProperties properties, Clock clock) {
        DispatcherProperties.Kafka kafka = properties.getKafka();
        return new IntakeProgress(kafka.getBootstrapServers(), kafka.getClientProperties(), kafka.getGroupId(),
                "paia-intake-" + kafka.getReplicaId(), properties.getHealth().getStallTimeout(), clock)
                .start(properties.getHealth().getCheckInterval());
    }

    @Bean
    DispatcherHealthChecks.Liveness dispatcherProgressHealthIndicator(FatalErrors fatalErrors, TransactionalWriter intakeWriter,
                                                  TransactionalWriter schedulerWriter, IntakeProgress progress) {
        return new DispatcherHealthChecks.Liveness(fatalErrors, intakeWriter, schedulerWriter, progress);
    }

    @Bean
    DispatcherHealthChecks.Storage blobStorageHealthIndicator(BlobServiceClient blobs) {
        return new DispatcherHealthChecks.Storage(blobs);
    }

    @Bean
    DispatcherHealthChecks.KubernetesApi kubernetesApiHealthIndicator(KubernetesClient client, DispatcherProperties properties) {
        return new DispatcherHealthChecks.KubernetesApi(client, properties.getKubernetes().getNamespace());
    }

    @Bean
    RunWatcher runWatcher(TaskBook book, PodClient pods, DispatcherProperties properties, Clock clock) {
        return new RunWatcher(book, pods, properties.getKubernetes().getPendingTimeout(), clock);
    }

    @Bean
    ArtifactStore artifactStore(BlobServiceClient blobs, DispatcherProperties properties, Clock clock) {
        ArtifactStore store = new ArtifactStore(blobs, properties.getStorage().getRecordsContainer(),
                properties.getStorage().getSasExpiry(), clock);
        store.ensureContainer();
        return store;
    }

    @Bean
    RunFinisher runFinisher(Workspace workspace, ArtifactStore store, PodClient pods, Ledger ledger,
                            RunWatcher watcher, ObjectMapper mapper, DispatcherProperties properties,
                            ExecutorService uploadPool) {
        return new RunFinisher(workspace, store, pods, ledger, watcher, mapper,
                properties.getLimits().getMaxResultJsonBytes(), uploadPool);
    }

    /** The threads that upload a finished run's artifacts side by side: three per finish thread. */
    @Bean(destroyMethod = "shutdownNow")
    ExecutorService uploadPool(CamelContext camel, DispatcherProperties properties) {
        return camel.getExecutorServiceManager().newFixedThreadPool(this, "upload",
                3 * properties.getScheduler().getFinishThreads());
    }

    @Bean
    ResultPublisher resultPublisher(Ledger ledger, ArtifactStore store, Workspace workspace, ObjectMapper mapper,
                                    DispatcherProperties properties, Clock clock) {
        return new ResultPublisher(ledger, store, workspace, mapper, properties.getKafka().getResultTopic(), clock);
    }
}
