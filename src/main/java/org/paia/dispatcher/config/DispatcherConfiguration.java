package org.paia.dispatcher.config;

import com.azure.storage.blob.BlobServiceClient;
import com.fasterxml.jackson.core.StreamReadConstraints;
import org.apache.camel.LoggingLevel;
import org.apache.camel.processor.errorhandler.RedeliveryPolicy;
import org.apache.camel.spring.boot.CamelContextConfiguration;
import org.paia.dispatcher.download.ProgramCache;
import org.paia.dispatcher.download.ProgramDownloads;
import org.paia.dispatcher.download.ProgramFiles;
import org.paia.dispatcher.intake.IntakeBatch;
import org.paia.dispatcher.intake.IntakeGuard;
import org.paia.dispatcher.intake.IntakeRecords;
import org.paia.dispatcher.kafka.TransactionalComponent;
import org.paia.dispatcher.ledger.LedgerWrite;
import org.paia.dispatcher.results.ArtifactLinks;
import org.paia.dispatcher.results.TaskCompletions;
import org.springframework.boot.autoconfigure.jackson.Jackson2ObjectMapperBuilderCustomizer;
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
import org.paia.dispatcher.failures.DispatcherHealthChecks;
import org.paia.dispatcher.failures.FatalErrors;
import org.paia.dispatcher.failures.Failures;
import org.paia.dispatcher.failures.IntakeProgress;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.kafka.TransactionalCommitFactory;
import org.paia.dispatcher.kafka.TransactionalWriter;
import org.paia.dispatcher.events.GameEvents;
import org.paia.dispatcher.ledger.Ledger;
import org.paia.dispatcher.ledger.LedgerLifecycle;
import org.paia.dispatcher.ledger.LedgerReader;
import org.paia.dispatcher.pods.GameLauncher;
import org.paia.dispatcher.pods.PodClient;
import org.paia.dispatcher.pods.PodCreations;
import org.paia.dispatcher.pods.PodRenderer;
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

    /** The GPU pools (paia.pools), checked at start-up. */
    @Bean
    GpuPools gpuPools(DispatcherProperties properties) {
        return GpuPools.of(properties);
    }

    /** The priority classes (paia.priorities), checked at start-up. */
    @Bean
    Priorities priorities(DispatcherProperties properties) {
        return Priorities.of(properties.getPriorities());
    }

    @Bean
    TaskParser taskParser(ObjectMapper mapper, DispatcherProperties properties, GpuPools pools, Priorities priorities,
                          BlobServiceClient blobs) {
        String account = properties.getStorage().getAccountUrl();
        return new TaskParser(mapper, properties.getLimits(), properties.getGames().keySet(), pools, priorities,
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
    GameEvents gameEvents(ObjectMapper mapper, DispatcherProperties properties) {
        return new GameEvents(mapper, properties.getKafka().getEventsTopic());
    }

    @Bean
    Ledger ledger(TransactionalWriter schedulerWriter, ObjectMapper mapper, DispatcherProperties properties,
                  TaskBook book, GameEvents gameEvents) {
        return new Ledger(schedulerWriter, mapper, properties.getKafka().getLedgerTopic(), book, gameEvents);
    }

    @Bean
    LedgerLifecycle ledgerLifecycle(TaskBook book, DispatcherProperties properties, Clock clock) {
        return new LedgerLifecycle(book, properties.getLedger().getDuplicateWindow(), clock);
    }

    /**
     * {@code paia-tx:intake} and {@code paia-tx:ledger}: the routes' one way to write to Kafka exactly once
     * (see {@link TransactionalComponent}).
     */
    @Bean(TransactionalComponent.SCHEME)
    TransactionalComponent transactionalComponent(TransactionalWriter intakeWriter, Ledger ledger) {
        return new TransactionalComponent(Map.of(
                "intake", exchange -> {
                    IntakeBatch batch = exchange.getMessage().getMandatoryBody(IntakeBatch.class);
                    intakeWriter.write(batch.records(), batch.consumed());
                },
                "ledger", exchange -> ledger.write(exchange.getMessage().getMandatoryBody(LedgerWrite.class))));
    }

    /** Refuses a consumer of the task topic that would end exactly-once (at start-up and on a live reload). */
    @Bean
    CamelContextConfiguration intakeGuard(DispatcherProperties properties) {
        IntakeGuard guard = new IntakeGuard(properties.getKafka().getTaskTopic());
        return new CamelContextConfiguration() {
            @Override
            public void beforeApplicationStart(CamelContext camelContext) {
                camelContext.getCamelContextExtension().registerEndpointCallback(guard);
            }

            @Override
            public void afterApplicationStart(CamelContext camelContext) {
                // nothing
            }
        };
    }

    /**
     * The application's JSON mapper reads at most 256 levels deep (the intake refuses tasks deeper than 64;
     * the ledger wraps a task in two more levels), so that no message can exhaust the stack.
     */
    @Bean
    Jackson2ObjectMapperBuilderCustomizer boundedJsonNesting() {
        return builder -> builder.postConfigurer(mapper -> mapper.getFactory().setStreamReadConstraints(
                StreamReadConstraints.builder().maxNestingDepth(256).build()));
    }

    /** The one redelivery policy for retriable failures (paia.retry.*), referenced by every route configuration. */
    @Bean
    RedeliveryPolicy retriable(DispatcherProperties properties) {
        DispatcherProperties.Retry retry = properties.getRetry();
        RedeliveryPolicy policy = new RedeliveryPolicy();
        policy.setMaximumRedeliveries(retry.getMaxRedeliveries());
        policy.setRedeliveryDelay(retry.getInitialDelayMs());
        policy.setMaximumRedeliveryDelay(retry.getMaxDelayMs());
        policy.setUseExponentialBackOff(true);
        policy.setBackOffMultiplier(2);
        policy.setUseCollisionAvoidance(true);
        policy.setRetryAttemptedLogLevel(LoggingLevel.WARN);
        return policy;
    }

    @Bean
    LedgerReader ledgerReader(DispatcherProperties properties, TaskBook book, ObjectMapper mapper, TopicSetup topics) {
        DispatcherProperties.Kafka kafka = properties.getKafka();
        return new LedgerReader(kafka.getBootstrapServers(), kafka.getClientProperties(), kafka.getLedgerTopic(),
                book, mapper);
    }

    @Bean
    IntakeRecords intakeRecords(Ledger ledger, ObjectMapper mapper, DispatcherProperties properties, Clock clock,
                                TaskBook book, GameEvents gameEvents, TaskParser taskParser) {
        return new IntakeRecords(ledger, mapper, properties.getKafka().getResultTopic(),
                properties.getKafka().getDeadLetterTopic(), clock, book, gameEvents, taskParser);
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

    /** create-pod and adopt-pod: a pod is never created once it has been seen or its run is over. */
    @Bean
    PodCreations podCreations(TaskBook book, PodClient pods) {
        return new PodCreations(book, pods);
    }

    @Bean
    ProgramDownloads programDownloads(Workspace workspace, DispatcherProperties properties) {
        return new ProgramDownloads(workspace, properties.getLimits().getMaxFilesPerProgram(),
                properties.getLimits().getMaxProgramBytes(), properties.getGames());
    }

    @Bean
    ProgramCache programCache() {
        return new ProgramCache();
    }

    @Bean
    ProgramFiles programFiles() {
        return new ProgramFiles();
    }

    // Thread pools of the routes' parallel steps. Camel's executor service manager owns them and shuts them
    // down when the routes have stopped; Spring must not shut them down before (destroyMethod off), or a
    // graceful shutdown rejects the work still in flight.

    /** The threads the scheduling pass launches game runs on (the {@code schedule-pass} route's split). */
    @Bean(destroyMethod = "")
    ExecutorService launchPool(CamelContext camel, DispatcherProperties properties) {
        return camel.getExecutorServiceManager().newFixedThreadPool(this, "launch",
                properties.getScheduler().getLaunchThreads());
    }

    /** The threads that fetch the programs of upcoming tasks ahead of their launch. */
    @Bean(destroyMethod = "")
    ExecutorService prefetchPool(CamelContext camel) {
        return camel.getExecutorServiceManager().newFixedThreadPool(this, "prefetch", 2);
    }

    /** The threads completed tasks are published on (the {@code task-complete} route's aggregator output). */
    @Bean(destroyMethod = "")
    ExecutorService completionPool(CamelContext camel) {
        return camel.getExecutorServiceManager().newFixedThreadPool(this, "completion", 2);
    }

    @Bean
    GameLauncher gameLauncher(Workspace workspace, PodRenderer renderer, DispatcherProperties properties,
                              GpuPools pools) {
        return new GameLauncher(workspace, renderer, properties, pools);
    }

    @Bean
    org.paia.dispatcher.startup.WarmUp warmUp(TaskParser parser, GameLauncher launcher, Workspace workspace, ObjectMapper mapper,
                                              BlobServiceClient blobs, KubernetesClient kubernetes, DispatcherProperties properties) {
        return new org.paia.dispatcher.startup.WarmUp(parser, launcher, workspace, mapper, blobs, kubernetes, properties);
    }

    @Bean
    Scheduler scheduler(TaskBook book, DispatcherProperties properties, GpuPools pools, Clock clock) {
        return new Scheduler(book, properties.getMaxAttempts(), pools,
                properties.getScheduler().getPrefetchRooms(), clock);
    }

    @Bean
    TaskCompletions taskCompletions(TaskBook book) {
        return new TaskCompletions(book);
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
                          TransactionalWriter schedulerWriter, SchedulerLease lease,
                          FatalErrors fatalErrors, DispatcherProperties properties) {
        return new Leadership(clusterService, book, reader, schedulerWriter, lease, fatalErrors,
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
    Failures failures() {
        return new Failures();
    }

    @Bean
    FatalErrors fatalErrors(CamelContext camel) {
        return new FatalErrors(camel);
    }

    /** The scheduler timers' exception handler: a tick rejected during shutdown is no warning. */
    @Bean
    org.paia.dispatcher.failures.QuietOnShutdown quietOnShutdown(CamelContext camel) {
        return new org.paia.dispatcher.failures.QuietOnShutdown(camel);
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
    RunWatcher runWatcher(TaskBook book, PodCreations creations, DispatcherProperties properties, Clock clock) {
        return new RunWatcher(book, creations, properties.getKubernetes().getPendingTimeout(), clock);
    }

    /** The records container exists before the first upload (created if missing, like the topics). */
    @Bean
    Object recordsContainer(BlobServiceClient blobs, DispatcherProperties properties) {
        blobs.getBlobContainerClient(properties.getStorage().getRecordsContainer()).createIfNotExists();
        return properties.getStorage().getRecordsContainer();
    }

    @Bean
    RunFinisher runFinisher(Workspace workspace, PodClient pods, ObjectMapper mapper, DispatcherProperties properties,
                            Clock clock) {
        return new RunFinisher(workspace, pods, mapper, properties.getLimits().getMaxResultJsonBytes(), clock);
    }

    /** The threads that upload a finished run's artifacts side by side: three per finish thread. */
    @Bean(destroyMethod = "")
    ExecutorService uploadPool(CamelContext camel, DispatcherProperties properties) {
        return camel.getExecutorServiceManager().newFixedThreadPool(this, "upload",
                3 * properties.getScheduler().getFinishThreads());
    }

    @Bean
    ResultPublisher resultPublisher(Workspace workspace, ObjectMapper mapper, DispatcherProperties properties,
                                    Clock clock) {
        return new ResultPublisher(workspace, mapper, properties.getKafka().getResultTopic(), clock);
    }

    @Bean
    ArtifactLinks artifactLinks(DispatcherProperties properties) {
        return new ArtifactLinks(properties.getStorage().getSasExpiry());
    }
}
