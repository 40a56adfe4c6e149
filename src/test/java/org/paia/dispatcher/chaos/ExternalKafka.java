package org.paia.dispatcher.chaos;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;

import static org.awaitility.Awaitility.await;

/**
 * A real Kafka broker (KRaft, combined broker+controller) as a separate process, so that a test can
 * stop and restart it on the same port and log directory, keeping committed data.
 */
final class ExternalKafka implements AutoCloseable {

    private final Path dir;
    private final int port;
    private final int controllerPort;
    private Process process;

    ExternalKafka(Path dir) throws IOException, InterruptedException {
        this.dir = dir;
        this.port = ChaosCluster.freePort();
        this.controllerPort = ChaosCluster.freePort();
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("server.properties"), String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                "log.dirs=" + dir.resolve("data"),
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=3",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=3",
                "group.initial.rebalance.delay.ms=0",
                // Abort timed-out transactions within half a second (default: checked every 10 s).
                "transaction.abort.timed.out.transaction.cleanup.interval.ms=500",
                "auto.create.topics.enable=false",
                "num.partitions=3", ""));
        Files.writeString(dir.resolve("logback.xml"), """
                <configuration>
                  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n</pattern></encoder>
                  </appender>
                  <root level="WARN"><appender-ref ref="OUT"/></root>
                </configuration>
                """);
        run("kafka.tools.StorageTool", "format", "-t", Uuid.randomUuid().toString(), "-c",
                dir.resolve("server.properties").toString()).waitFor(60, TimeUnit.SECONDS);
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    void start() throws IOException {
        process = run("kafka.Kafka", dir.resolve("server.properties").toString());
        await().atMost(Duration.ofSeconds(60)).until(() -> listening(port));
    }

    /** A clean stop (SIGTERM), as a broker restart would do. */
    void stop() throws InterruptedException {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
            process = null;
        }
    }

    private Process run(String mainClass, String... args) throws IOException {
        List<String> command = new java.util.ArrayList<>(List.of(ChaosCluster.java(), "-Xmx512m",
                "-Dlogback.configurationFile=" + dir.resolve("logback.xml"),
                "-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("kafka.log").toFile())).start();
    }

    static boolean listening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
