package org.paia.dispatcher.local;

import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.util.Queue;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.logging.Log;
import org.apache.kafka.common.utils.Exit;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.boot.logging.DeferredLogFactory;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.Profiles;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * Local mode's servers: a real Kafka broker in KRaft mode, Azurite, and the fabric8 Kubernetes API
 * server in CRUD mode, all on loopback. Started before any bean exists (an environment
 * post-processor), once per JVM, and their addresses put into the environment as the ordinary
 * {@code paia.*} settings, so that production code never knows it runs locally.
 */
public class LocalServers implements EnvironmentPostProcessor, Ordered {

    /** Azurite's fixed development account and key: public, the same on every machine. */
    public static final String AZURITE_ACCOUNT = "devstoreaccount1";
    public static final String AZURITE_KEY =
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static volatile Map<String, Object> started;

    private final Log log;

    public LocalServers(DeferredLogFactory logs) {
        this.log = logs.getLog(LocalServers.class);
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE; // after the config files are read
    }

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (!environment.acceptsProfiles(Profiles.of("local"))) {
            return;
        }
        environment.getPropertySources().addFirst(new MapPropertySource("paia-local-servers", startOnce(environment)));
    }

    private synchronized Map<String, Object> startOnce(ConfigurableEnvironment env) {
        if (started != null) {
            return started;
        }
        int kafkaPort = env.getProperty("paia.local.kafka-port", Integer.class, 9092);
        int azuritePort = env.getProperty("paia.local.azurite-port", Integer.class, 10000);
        int kubernetesPort = env.getProperty("paia.local.kubernetes-port", Integer.class, 0);
        Path npmDir = Path.of(env.getProperty("paia.local.npm-dir", "."));
        Path dataDir = Path.of(env.getProperty("paia.local.data-dir", "work"));

        // Azurite (a Node process) starts beside the broker: the two take most of a local start-up.
        java.util.concurrent.CompletableFuture<AzuriteProcess> azuriteStart = java.util.concurrent.CompletableFuture
                .supplyAsync(() -> AzuriteProcess.start(npmDir, dataDir.resolve("azurite"), azuritePort));
        String bootstrap = startKafka(kafkaPort);
        String kubernetes = startKubernetes(kubernetesPort);
        AzuriteProcess azurite;
        try {
            azurite = azuriteStart.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
        LocalServers.azurite = azurite;

        String blobEndpoint = azurite.accountUrl();
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("paia.kafka.bootstrap-servers", bootstrap);
        props.put("paia.storage.connection-string", azurite.connectionString());
        props.put("paia.storage.account-url", blobEndpoint);
        props.put("paia.kubernetes.master-url", kubernetes);
        log.info("LOCAL MODE: Kafka (KRaft) at " + bootstrap + ", Azurite at " + blobEndpoint
                + ", Kubernetes API test server at " + kubernetes + " — game pods are SIMULATED, no GPU is used");
        started = Map.copyOf(props);
        return started;
    }

    /** Settings a one-broker KRaft cluster needs for transactions and consumer groups. */
    public static Map<String, String> singleBrokerProperties() {
        Map<String, String> broker = new HashMap<>();
        broker.put("transaction.state.log.replication.factor", "1");
        broker.put("transaction.state.log.min.isr", "1");
        broker.put("offsets.topic.replication.factor", "1");
        broker.put("group.initial.rebalance.delay.ms", "0");
        broker.put("auto.create.topics.enable", "false");
        // Compaction of the ledger (tombstoned keys, issue 11) shows within seconds rather than after the
        // cleaner's default 15 s nap; a smaller dedupe buffer than the default 128 MiB, on the local heap.
        broker.put("log.cleaner.backoff.ms", "2000");
        broker.put("log.cleaner.dedupe.buffer.size", String.valueOf(32 * 1024 * 1024));
        return broker;
    }

    private static String startKafka(int port) {
        Map<String, String> broker = singleBrokerProperties();
        if (port > 0) {
            // A fixed port so that kcat and the Kafka CLI tools work against it (kafkaPorts() is ignored in KRaft).
            broker.put("listeners", "EXTERNAL://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:0");
        }
        EmbeddedKafkaKraftBroker kafka = new EmbeddedKafkaKraftBroker(1, 3);
        kafka.brokerProperties(broker);
        // Kafka's test kit deletes the broker's temporary folders in JVM shutdown hooks of its own, which ran
        // beside the application's graceful shutdown: the broker lost its log folder under the routes still
        // writing (a flood of KafkaStorageException, then the broker halted). They run after it now.
        List<Runnable> folderDeletions = new java.util.concurrent.CopyOnWriteArrayList<>();
        Exit.setShutdownHookAdder((name, hook) -> folderDeletions.add(hook));
        try {
            kafka.afterPropertiesSet();
        } finally {
            Exit.resetShutdownHookAdder();
        }
        // Stopped once the application has stopped (Spring Boot runs these after closing its contexts), not
        // by a JVM shutdown hook of its own, which ran beside Camel's shutdown and cut the routes' broker off.
        SpringApplication.getShutdownHandlers().add(() -> {
            kafka.destroy();
            folderDeletions.forEach(Runnable::run);
        });
        return kafka.getBrokersAsString();
    }

    private static volatile KubernetesMockServer kubernetesServer;
    private static volatile AzuriteProcess azurite;

    /** This JVM's Azurite (tests stop and restart it to cut storage off). */
    public static AzuriteProcess azurite() {
        return azurite;
    }

    /**
     * The Kubernetes API test server of this JVM. CRUD mode, with expectations taking precedence
     * ({@code expect()}), so that tests can make the API answer 500, 429 or 403 for a while.
     */
    public static KubernetesMockServer kubernetesServer() {
        return kubernetesServer;
    }

    private static String startKubernetes(int port) {
        Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
        KubernetesMockServer server = new KubernetesMockServer(new Context(Serialization.jsonMapper()),
                new MockWebServer(), expectations, new KubernetesMixedDispatcher(expectations), false);
        kubernetesServer = server;
        try {
            server.init(InetAddress.getByName("127.0.0.1"), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        SpringApplication.getShutdownHandlers().add(server::destroy); // after the application has stopped
        return "http://127.0.0.1:" + server.getPort();
    }
}
