package org.paia.dispatcher.chaos;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.config.TopicSetup;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.local.AzuriteProcess;
import org.paia.dispatcher.local.LocalReplicaPod;
import org.paia.dispatcher.local.LocalServers;
import org.paia.dispatcher.local.SimulatedNode;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.support.ResultCollector;

/**
 * Everything a dispatcher process needs, hosted by the test: a Kafka broker process, Azurite, the
 * Kubernetes API server in CRUD mode, the simulated GPU node, and a watch on game pods that checks,
 * on every pod event, that no instance ever has two live pods.
 */
final class ChaosCluster implements AutoCloseable {

    static final String NAMESPACE = "paia";
    static final String PROGRAM = "user-1/kart_3d/chaos";
    /** The ws_uri token of every chaos task: it must never reach a log. */
    static final String TOKEN = "chaos-token-5f3a9c";
    /** Held so that the level sticks (java.util.logging keeps loggers weakly). */
    private static final java.util.logging.Logger MOCK_SERVER_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    private final Path dir;
    private final ExternalKafka kafka;
    private final AzuriteProcess azurite;
    private final KubernetesMockServer kubernetesServer;
    private final KubernetesClient kubernetes;
    private final SimulatedNode node;
    private final SharedIndexInformer<Pod> podMonitor;
    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final Map<String, Pod> pods = new ConcurrentHashMap<>();
    private final KafkaProducer<String, byte[]> producer;
    /** Every room published, with the instances it asks for (1 for a single game). */
    private final Map<String, Integer> published = new java.util.concurrent.ConcurrentSkipListMap<>();
    private final ResultCollector ledger;
    private volatile int peakAlive;
    private volatile String peakPods = "none";

    ChaosCluster(String name) throws Exception {
        dir = Path.of("target", "chaos", name + "-" + System.currentTimeMillis()).toAbsolutePath();
        MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
        Files.createDirectories(workspace());
        kafka = new ExternalKafka(dir.resolve("kafka"));
        kafka.start();
        // Topics exist before any dispatcher runs, as an operator would create them.
        DispatcherProperties.Kafka topics = new DispatcherProperties.Kafka();
        topics.setBootstrapServers(bootstrapServers());
        new TopicSetup(topics).createMissingTopics();
        ledger = new ResultCollector(bootstrapServers(), "paia.game.ledger");
        azurite = AzuriteProcess.start(Path.of("."), dir.resolve("azurite"), 0);
        kubernetesServer = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(),
                new HashMap<>(), new KubernetesCrudDispatcher(), false);
        kubernetesServer.init(InetAddress.getByName("127.0.0.1"), 0);
        kubernetes = new KubernetesClientBuilder().withConfig(new ConfigBuilder().withMasterUrl(kubernetesUrl())
                .withNamespace(NAMESPACE).build()).build();

        DispatcherProperties properties = new DispatcherProperties();
        properties.getKubernetes().setNamespace(NAMESPACE);
        ObjectMapper mapper = new ObjectMapper();
        node = new SimulatedNode(kubernetes, new Workspace(workspace(), "/workspace", mapper), mapper, properties,
                Duration.ofMillis(100), Duration.ofMillis(400));
        node.start();
        podMonitor = kubernetes.pods().inNamespace(NAMESPACE)
                .withLabel(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY).inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod pod) {
                        check(pod);
                    }

                    @Override
                    public void onUpdate(Pod oldPod, Pod newPod) {
                        check(newPod);
                    }

                    @Override
                    public void onDelete(Pod pod, boolean unknown) {
                        pods.remove(pod.getMetadata().getName());
                    }
                }, 0);

        BlobServiceClient blobs = new BlobServiceClientBuilder().connectionString(storageConnectionString()).buildClient();
        BlobContainerClient container = blobs.getBlobContainerClient("user-1");
        container.createIfNotExists();
        container.getBlobClient("kart_3d/chaos/ml_play.py").upload(BinaryData.fromString("class MLPlay: pass\n"), true);

        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000");
        producer = new KafkaProducer<>(config);
    }

    /** Never two live (not ended, not being deleted) pods for one (room, instance). */
    private synchronized void check(Pod pod) {
        pods.put(pod.getMetadata().getName(), pod);
        String room = pod.getMetadata().getLabels().get(PodNames.ROOM_LABEL);
        String instance = pod.getMetadata().getLabels().get(PodNames.INSTANCE_LABEL);
        List<String> live = pods.values().stream()
                .filter(p -> room.equals(p.getMetadata().getLabels().get(PodNames.ROOM_LABEL))
                        && instance.equals(p.getMetadata().getLabels().get(PodNames.INSTANCE_LABEL)))
                .filter(ChaosCluster::isLive).map(p -> p.getMetadata().getName()).toList();
        if (live.size() > 1) {
            violations.add("two live pods for " + room + "/" + instance + ": " + live);
        }
        List<Pod> alive = pods.values().stream().filter(ChaosCluster::isLive).toList();
        if (alive.size() > peakAlive) {
            peakAlive = alive.size();
            peakPods = java.time.Instant.now() + " on " + pod.getMetadata().getName() + " ("
                    + (pod.getStatus() == null ? null : pod.getStatus().getPhase()) + "): " + alive.stream().map(p -> p.getMetadata().getName() + " "
                    + (p.getStatus() == null ? null : p.getStatus().getPhase()) + " rv " + p.getMetadata().getResourceVersion())
                    .toList();
        }
    }

    /** The live pods at the peak, with when and on which pod's event: to tell where a capacity breach came from. */
    String peakPods() {
        return peakPods;
    }

    /** The most game pods alive (existing, not ended, not being deleted) at once, over all pod events. */
    int peakAlive() {
        return peakAlive;
    }

    private static boolean isLive(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return pod.getMetadata().getDeletionTimestamp() == null
                && !"Succeeded".equals(phase) && !"Failed".equals(phase);
    }

    List<String> violations() {
        return List.copyOf(violations);
    }

    /** Registers a dispatcher replica as a Running, Ready pod of the Deployment (leader election candidates). */
    void registerReplica(String replicaId) {
        LocalReplicaPod.register(kubernetes, NAMESPACE, replicaId);
    }

    /**
     * What kubelet does when a replica's container dies: its pod stops being Ready. Camel's leader
     * election considers Ready pods only, so this is what lets a standby take the lease.
     */
    void markReplicaDown(String replicaId) {
        setReplicaReady(replicaId, false);
    }

    /** The replica's pod Ready or not, as kubelet sets it from the readiness probe. */
    void setReplicaReady(String replicaId, boolean ready) {
        LocalReplicaPod.setReady(kubernetes, NAMESPACE, replicaId, ready);
    }

    /**
     * Deletes one running game pod as kubectl would (its finalizer keeps it until the dispatcher has dealt
     * with it); returns its name, or null when none runs.
     */
    String deleteARunningGamePod() {
        return gamePods().stream().filter(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase())
                        && p.getMetadata().getDeletionTimestamp() == null)
                .findFirst().map(p -> {
                    kubernetes.pods().inNamespace(NAMESPACE).withName(p.getMetadata().getName()).delete();
                    return p.getMetadata().getName();
                }).orElse(null);
    }

    /**
     * Games the node started after their instance's outcome was already on the ledger (read
     * {@code read_committed}): a game played again, its first video replaced and its GPU paid twice.
     */
    List<String> gamesStartedAfterTheirOutcome() {
        Map<String, Long> outcomeAt = new HashMap<>();
        for (org.apache.kafka.clients.consumer.ConsumerRecord<String, byte[]> record : ledger.all()) {
            if (record.value() != null && record.key() != null && record.key().contains("/")
                    && new String(record.value(), StandardCharsets.UTF_8).contains("\"INSTANCE_OUTCOME\"")) {
                outcomeAt.putIfAbsent(record.key(), record.timestamp());
            }
        }
        List<String> late = new java.util.ArrayList<>();
        for (SimulatedNode.GameStart start : node.starts()) {
            Long recorded = outcomeAt.get(start.room() + "/" + start.instance());
            if (recorded != null && start.at().toEpochMilli() > recorded) {
                late.add(start.pod() + " started " + (start.at().toEpochMilli() - recorded)
                        + " ms after instance " + start.instance() + "'s outcome was recorded");
            }
        }
        return late;
    }

    /** Game starts, by pod name, of pods that started more than once (reported: a lost pod may legitimately rerun). */
    Map<String, Long> podsStartedMoreThanOnce() {
        Map<String, Long> starts = node.starts().stream().collect(java.util.stream.Collectors.groupingBy(
                SimulatedNode.GameStart::pod, java.util.stream.Collectors.counting()));
        starts.values().removeIf(n -> n < 2);
        return starts;
    }

    /** Dispatcher log files that contain the tasks' ws_uri token. */
    List<String> logsWithTheToken() throws IOException {
        Path logs = dir.resolve("dispatchers");
        if (!Files.isDirectory(logs)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(logs)) {
            return files.filter(f -> f.toString().endsWith(".log")).filter(f -> {
                try {
                    return Files.readString(f, StandardCharsets.ISO_8859_1).contains(TOKEN);
                } catch (IOException e) {
                    return false;
                }
            }).map(f -> f.getFileName().toString()).toList();
        }
    }

    /** Rooms published so far, with the instances each asks for. */
    Map<String, Integer> published() {
        return Map.copyOf(published);
    }

    String leader() {
        var lease = kubernetes.leases().inNamespace(NAMESPACE).withName("paia-dispatcher-scheduler").get();
        return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
    }

    void publishTask(String roomId) {
        publishTask(roomId, null);
    }

    /** A task whose simulated game lasts {@code gameMillis} (null: the node's default, 400 ms). */
    private void publishTask(String roomId, Long gameMillis) {
        publishTask(roomId, gameMillis, 1, 1);
    }

    private void publishTask(String roomId, Long gameMillis, int instances, int parallelism) {
        String duration = gameMillis == null ? "" : ", \"sim_duration_ms\": " + gameMillis;
        String batch = instances == 1 ? "" : ", \"instances\": %d, \"parallelism\": %d".formatted(instances, parallelism);
        String task = """
                {"type": "game_cmd", "data": {"category": "3D", "game_id": 7, "game_name": "kart_3d",
                 "room_id": "%s", "game_param": {"is_pickup": "true", "pickup_map": "1", "user_num": 1%s},
                 "plug_in_data": [], "programs": [{"url": "%s/%s", "code_name": "chaos_player"}],
                 "ws_uri": "ws://webservice/ws/game_server/room/%s?token=%s"%s}}
                """.formatted(roomId, duration, accountUrl(), PROGRAM, roomId, TOKEN, batch);
        published.put(roomId, instances);
        producer.send(new ProducerRecord<>("paia.game.tasks", roomId, task.getBytes(StandardCharsets.UTF_8)));
    }

    /** Publishes a batch run (simulated games of the node's default length) and returns its room. */
    String publishBatch(int instances, int parallelism) {
        return publishBatch(instances, parallelism, null);
    }

    /** {@link #publishBatch(int, int)} with games that last {@code gameMillis} each. */
    String publishBatch(int instances, int parallelism, Long gameMillis) {
        String room = java.util.UUID.randomUUID().toString();
        publishTask(room, gameMillis, instances, parallelism);
        flush();
        return room;
    }

    /** Publishes a cancel_cmd for the room, keyed by the room as its task, and waits until the broker has it. */
    void cancel(String roomId, String reason) {
        String cancel = """
                {"type": "cancel_cmd", "data": {"room_id": "%s", "reason": "%s"}}""".formatted(roomId, reason);
        producer.send(new ProducerRecord<>("paia.game.tasks", roomId, cancel.getBytes(StandardCharsets.UTF_8)));
        flush();
    }

    /** Publishes {@code count} tasks for new rooms and waits until the broker has them; returns the rooms. */
    List<String> publishTasks(int count) {
        return publishTasks(count, null);
    }

    /** {@link #publishTasks(int)} with games that last {@code gameMillis} each. */
    List<String> publishTasks(int count, Long gameMillis) {
        List<String> rooms = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            String room = java.util.UUID.randomUUID().toString();
            rooms.add(room);
            publishTask(room, gameMillis);
        }
        flush();
        return rooms;
    }

    void flush() {
        producer.flush();
    }

    List<Pod> gamePods() {
        return kubernetes.pods().inNamespace(NAMESPACE).withLabel(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY)
                .list().getItems();
    }

    ResultCollector collectResults() {
        return new ResultCollector(bootstrapServers(), "paia.game.results");
    }

    /** The lifecycle events, read committed from the beginning (the topic exists once a dispatcher has started). */
    ResultCollector collectEvents() {
        return new ResultCollector(bootstrapServers(), "paia.game.events");
    }

    ExternalKafka kafka() {
        return kafka;
    }

    Path dir() {
        return dir;
    }

    Path workspace() {
        return dir.resolve("workspace");
    }

    String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    String kubernetesUrl() {
        return "http://127.0.0.1:" + kubernetesServer.getPort();
    }

    String accountUrl() {
        return azurite.accountUrl();
    }

    String storageConnectionString() {
        return azurite.connectionString();
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static Path dispatcherJar() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(p -> p.getFileName().toString().matches("paia-dispatcher-.*\\.jar"))
                    .findFirst().orElseThrow(() -> new IllegalStateException(
                            "no dispatcher jar in target/: chaos tests run after 'package' (./mvnw verify)"))
                    .toAbsolutePath();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() throws Exception {
        producer.close(Duration.ofSeconds(5));
        ledger.close();
        podMonitor.close();
        node.stop();
        kubernetes.close();
        kubernetesServer.destroy();
        kafka.close();
        azurite.stop();
    }
}
