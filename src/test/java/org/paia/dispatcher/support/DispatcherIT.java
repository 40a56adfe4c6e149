package org.paia.dispatcher.support;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.local.LocalServers;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;

import static org.awaitility.Awaitility.await;

/**
 * Base of the integration tests: the whole dispatcher in local mode — the real KRaft broker,
 * Azurite and the Kubernetes API server in CRUD mode, plus the simulated node — started once per
 * test JVM (Spring caches the context; the servers are per JVM).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles({"local", "test"})
@AutoConfigureObservability // /actuator/prometheus is served (MetricsIT)
public abstract class DispatcherIT {

    protected static final String SEED_TASK_FILE = "examples/kart_3d.json";

    private static ResultCollector results;
    private static ResultCollector deadLetters;
    private static ResultCollector events;
    private static KafkaProducer<String, byte[]> producer;
    private static KubernetesClient testKubernetes;

    /** The User-Agent of the tests' own Kubernetes API calls (RbacIT leaves them out). */
    public static final String TEST_USER_AGENT = "paia-tests";

    @Autowired
    protected DispatcherProperties properties;
    @Autowired
    protected BlobServiceClient blobs;

    @BeforeAll
    static void resetStatics() {
        // created lazily with the context's addresses
    }

    @AfterAll
    static void closeClients() throws InterruptedException {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
            producer = null;
        }
        if (results != null) {
            results.close();
            results = null;
        }
        if (deadLetters != null) {
            deadLetters.close();
            deadLetters = null;
        }
        if (events != null) {
            events.close();
            events = null;
        }
    }

    /** The lifecycle events topic, read committed from its beginning. */
    protected ResultCollector events() {
        if (events == null) {
            events = new ResultCollector(properties.getKafka().getBootstrapServers(), properties.getKafka().getEventsTopic());
        }
        return events;
    }

    protected ResultCollector results() {
        if (results == null) {
            results = new ResultCollector(properties.getKafka().getBootstrapServers(), properties.getKafka().getResultTopic());
        }
        return results;
    }

    protected ResultCollector deadLetters() {
        if (deadLetters == null) {
            deadLetters = new ResultCollector(properties.getKafka().getBootstrapServers(),
                    properties.getKafka().getDeadLetterTopic());
        }
        return deadLetters;
    }

    protected void publish(String key, byte[] value) {
        publish(null, key, value);
    }

    /** Publishes a task to the given partition of the task topic (null: the key's). */
    protected void publish(Integer partition, String key, byte[] value) {
        if (producer == null) {
            Properties config = new Properties();
            config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, properties.getKafka().getBootstrapServers());
            config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            producer = new KafkaProducer<>(config);
        }
        try {
            producer.send(new ProducerRecord<>(properties.getKafka().getTaskTopic(), partition, key, value)).get();
        } catch (Exception e) {
            throw new AssertionError("cannot publish the task", e);
        }
    }

    protected void publish(String key, String value) {
        publish(key, value.getBytes(StandardCharsets.UTF_8));
    }

    /** The seed's task (examples/kart_3d.json) for a fresh room, its program URL pointed at the test account. */
    protected String seedTask(String roomId, String programPath, String codeName) throws Exception {
        String seed = Files.readString(Path.of(SEED_TASK_FILE));
        return seed.replace("8f8ef481-911b-432a-aacd-670be3b8f288", roomId)
                .replace("http://127.0.0.1:10000/devstoreaccount1", properties.getStorage().getAccountUrl())
                .replace("user-102/kart_3d/code-855", programPath)
                .replace("kart3d_ppo_test", codeName);
    }

    /** Uploads a one-file program folder {@code <container>/<prefix>/ml_play.py}. */
    protected void uploadProgram(String container, String prefix, String script) {
        BlobContainerClient client = blobs.getBlobContainerClient(container);
        client.createIfNotExists();
        client.getBlobClient(prefix + "/ml_play.py").upload(BinaryData.fromString(script), true);
    }

    /**
     * Uploads a one-file program to {@code user-102/<folder>/ml_play.py} and publishes the seed task
     * for the room with that program.
     */
    protected void publishWithProgram(String roomId, String folder, String codeName) throws Exception {
        uploadProgram("user-102", folder, "class MLPlay: pass\n");
        publish(roomId, seedTask(roomId, "user-102/" + folder, codeName));
    }

    /** The seed task for a fresh room with batch fields and simulated-game knobs (game_param.sim_*). */
    protected String batchTask(String room, String folder, String batchFields, String simParams) throws Exception {
        return seedTask(room, "user-102/" + folder, "batch_player")
                .replace("\"category\": \"3D\"", "\"category\": \"3D\", " + batchFields)
                .replace("\"user_num\": 1", "\"user_num\": 1, " + simParams);
    }

    /** Uploads a program and publishes a batch task for a fresh room; returns the room. */
    protected String publishBatch(String batchFields, String simParams) throws Exception {
        String room = newRoom();
        uploadProgram("user-102", "batch-" + room, "class MLPlay: pass\n");
        publish(room, batchTask(room, "batch-" + room, batchFields, simParams));
        return room;
    }

    /**
     * A Kubernetes client for the tests' own calls (deleting a pod as kubectl would, reading pods),
     * told apart from the dispatcher's calls by its User-Agent. One per test JVM, like the servers.
     */
    protected static synchronized KubernetesClient testKubernetes() {
        if (testKubernetes == null) {
            testKubernetes = LocalServers.kubernetesServer().createClient(b -> b.withConfig(
                    new ConfigBuilder().withMasterUrl("http://127.0.0.1:" + LocalServers.kubernetesServer().getPort())
                            .withNamespace("paia").withUserAgent(TEST_USER_AGENT).build()));
        }
        return testKubernetes;
    }

    protected static String newRoom() {
        return UUID.randomUUID().toString();
    }

    /** Waits for the room's first result and returns it. */
    protected JsonNode awaitResult(String roomId) {
        await().atMost(Duration.ofSeconds(60)).until(() -> !results().records(roomId).isEmpty());
        return results().json(roomId).get(0);
    }

    protected List<JsonNode> resultsOf(String roomId) {
        return results().json(roomId);
    }
}
