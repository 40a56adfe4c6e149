package org.paia.dispatcher.bench;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.config.TopicSetup;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.local.AzuriteProcess;
import org.paia.dispatcher.local.LocalServers;
import org.paia.dispatcher.local.SimulatedNode;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * The servers every case runs against, hosted by the bench JVM: the embedded KRaft Kafka broker,
 * Azurite, the fabric8 Kubernetes API server in CRUD mode, and two simulated GPU nodes (one for the
 * dispatcher's namespace, one for the baseline's), both {@link SimulatedNode}, the same code that
 * plays kubelet in local mode.
 */
final class BenchCluster implements AutoCloseable {

    static final String NAMESPACE = "paia";
    static final String BASELINE_NAMESPACE = "baseline";
    static final String PROGRAM_CONTAINER = "user-1";
    static final String PROGRAM_BLOB = "kart_3d/bench/ml_play.py";
    private static final java.util.logging.Logger MOCK_SERVER_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    final Path dir;
    final EmbeddedKafkaKraftBroker kafka;
    final AzuriteProcess azurite;
    final KubernetesMockServer kubernetesServer;
    final KubernetesClient kubernetes;
    final SimulatedNode node;
    final SimulatedNode baselineNode;
    final BlobServiceClient blobs;
    final KafkaProducer<String, byte[]> producer;
    final ObjectMapper mapper = new ObjectMapper();

    BenchCluster(Path dir) throws Exception {
        this.dir = dir;
        MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
        Files.createDirectories(workspace());
        Files.createDirectories(baselineWorkspace());

        Map<String, String> broker = LocalServers.singleBrokerProperties();
        kafka = new EmbeddedKafkaKraftBroker(1, 3);
        kafka.brokerProperties(broker);
        kafka.afterPropertiesSet();
        DispatcherProperties.Kafka topics = new DispatcherProperties.Kafka();
        topics.setBootstrapServers(bootstrapServers());
        new TopicSetup(topics).createMissingTopics();

        azurite = AzuriteProcess.start(Path.of("."), dir.resolve("azurite"), 0);
        kubernetesServer = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(),
                new HashMap<>(), new KubernetesCrudDispatcher(), false);
        kubernetesServer.init(InetAddress.getByName("127.0.0.1"), 0);
        kubernetes = new KubernetesClientBuilder().withConfig(new ConfigBuilder().withMasterUrl(kubernetesUrl())
                .withNamespace(NAMESPACE).build()).build();

        // Pending 0: the bench measures what the dispatcher costs, not a kubelet's image pull.
        node = new SimulatedNode(kubernetes, new Workspace(workspace(), "/workspace", mapper), mapper,
                properties(NAMESPACE), Duration.ZERO, Duration.ofSeconds(1));
        node.start();
        baselineNode = new SimulatedNode(kubernetes, new Workspace(baselineWorkspace(), "/workspace", mapper), mapper,
                properties(BASELINE_NAMESPACE), Duration.ZERO, Duration.ofSeconds(1));
        baselineNode.start();

        // The same client settings as the dispatcher's (ClientsConfiguration): two quick retries.
        blobs = new BlobServiceClientBuilder().connectionString(storageConnectionString())
                .retryOptions(new RequestRetryOptions(RetryPolicyType.EXPONENTIAL, 2, Duration.ofSeconds(60),
                        Duration.ofMillis(200), Duration.ofSeconds(2), null))
                .buildClient();
        blobs.getBlobContainerClient(PROGRAM_CONTAINER).createIfNotExists();
        blobs.getBlobContainerClient("records").createIfNotExists();
        blobs.getBlobContainerClient(PROGRAM_CONTAINER).getBlobClient(PROGRAM_BLOB)
                .upload(BinaryData.fromString("class MLPlay: pass\n"), true);

        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        config.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        producer = new KafkaProducer<>(config);
    }

    private static DispatcherProperties properties(String namespace) {
        DispatcherProperties properties = new DispatcherProperties();
        properties.getKubernetes().setNamespace(namespace);
        return properties;
    }

    /** A transactional producer of strings, its transactions initialised: the raw loops' and the baseline's. */
    static KafkaProducer<String, String> transactionalProducer(String bootstrapServers, String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        KafkaProducer<String, String> producer = new KafkaProducer<>(p);
        producer.initTransactions();
        return producer;
    }

    void createTopics(List<String> names) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.createTopics(names.stream().map(n -> new NewTopic(n, 3, (short) 1)).toList()).all().get();
        }
    }

    /** A task in the seed's format (SPEC §2); {@code gameParam} is JSON object members, {@code extra} data members. */
    String task(String roomId, String gameParam, String extra) {
        return """
                {"type": "game_cmd", "data": {"category": "3D", "game_id": 7, "game_name": "kart_3d",
                 "room_id": "%s", "game_param": {"is_pickup": "true", "pickup_map": "1", "user_num": 1%s},
                 "plug_in_data": [], "programs": [{"url": "%s/%s/%s", "code_name": "bench_player"}],
                 "ws_uri": "ws://webservice/ws/game_server/room/%s?token=bench-token"%s}}
                """.formatted(roomId, gameParam.isEmpty() ? "" : ", " + gameParam, accountUrl(), PROGRAM_CONTAINER,
                PROGRAM_BLOB, roomId, extra.isEmpty() ? "" : ", " + extra);
    }

    void publish(String topic, String key, String value) {
        producer.send(new ProducerRecord<>(topic, key, value.getBytes(StandardCharsets.UTF_8)));
    }

    Path workspace() {
        return dir.resolve("workspace");
    }

    Path baselineWorkspace() {
        return dir.resolve("baseline-workspace");
    }

    String bootstrapServers() {
        return kafka.getBrokersAsString();
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

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
        node.stop();
        baselineNode.stop();
        kubernetes.close();
        kubernetesServer.destroy();
        azurite.stop();
        kafka.destroy();
    }
}
