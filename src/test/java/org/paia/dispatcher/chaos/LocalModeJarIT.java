package org.paia.dispatcher.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paia.dispatcher.support.ResultCollector;

/**
 * The README's first command as a user meets it, from the packaged jar (what {@code spring-boot:run} runs is
 * the jar's class path): local mode with everything embedded, the sample task in, its result out. The
 * integration tests run local mode from the test class path, which holds more than the jar; this is the
 * test that saw a test-scoped dependency take the Kubernetes test server's YAML reader out of the jar.
 */
class LocalModeJarIT {

    private static final Pattern SERVERS = Pattern.compile("LOCAL MODE: Kafka \\(KRaft\\) at (\\S+), Azurite at (\\S+),");

    @Test
    void theJarRunsTheSampleTaskWithEverythingEmbedded(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("dispatcher.log");
        Files.createDirectories(dir.resolve("tmp"));
        ProcessBuilder builder = new ProcessBuilder(ChaosCluster.java(), "-Xmx512m", "-Djava.io.tmpdir=" + dir.resolve("tmp"),
                "-jar", ChaosCluster.dispatcherJar().toString(),
                "--server.port=" + ChaosCluster.freePort(),
                // free ports instead of 9092 and 10000, so that it runs beside anything else
                "--paia.local.kafka-port=0", "--paia.local.azurite-port=0",
                "--paia.local.data-dir=" + dir.resolve("data"), "--paia.workspace=" + dir.resolve("workspace"))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Process process = builder.start();
        try {
            await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500)).until(() -> {
                assertThat(process.isAlive()).as("the dispatcher exited:%n%s", tail(log)).isTrue();
                return Files.readString(log).contains("Started DispatcherApplication");
            });
            Matcher servers = SERVERS.matcher(Files.readString(log));
            assertThat(servers.find()).as("the LOCAL MODE line in%n%s", tail(log)).isTrue();
            String bootstrap = servers.group(1);
            String account = servers.group(2);

            String room = UUID.randomUUID().toString();
            String task = Files.readString(Path.of("examples/kart_3d.json"))
                    .replace("8f8ef481-911b-432a-aacd-670be3b8f288", room)
                    .replace("http://127.0.0.1:10000/devstoreaccount1", account);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                    ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()));
                 ResultCollector results = new ResultCollector(bootstrap, "paia.game.results")) {
                producer.send(new ProducerRecord<>("paia.game.tasks", room, task)).get();
                await().atMost(Duration.ofSeconds(120)).until(() -> !results.records(room).isEmpty());
                JsonNode result = results.json(room).get(0);
                assertThat(result.path("outcome").asText()).as("%s", result).isEqualTo("SUCCEEDED");
                String video = result.path("artifacts").path("video").asText();
                assertThat(video).startsWith(account);
            }
        } finally {
            process.destroy(); // SIGTERM, as Ctrl-C
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        assertThat(Files.readString(log)).as("a quiet shutdown").doesNotContain(" ERROR ");
    }

    private static String tail(Path log) throws java.io.IOException {
        String text = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        return text.substring(Math.max(0, text.length() - 6000));
    }
}
