package org.paia.dispatcher.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.pods.PodRenderer;

/**
 * Seed 000's dispatcher loop, written plainly with the Kafka, fabric8 and Azure clients: poll a batch
 * of up to 5 tasks, begin a transaction, download the programs, create the pods, wait for all of
 * them, upload the artifacts, produce the results, send the offsets, commit, repeat. Its pods run on
 * the same simulated node code as the dispatcher's, in their own namespace.
 */
final class Baseline implements AutoCloseable {

    static final String TASKS = "bench.baseline.tasks";
    static final String RESULTS = "bench.baseline.results";

    private final BenchCluster cluster;
    private final KafkaConsumer<String, String> consumer;
    private final KafkaProducer<String, String> producer;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Exception failure;

    Baseline(BenchCluster cluster, int batch) {
        this.cluster = cluster;
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-baseline");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(batch));
        c.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "600000");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        consumer = new KafkaConsumer<>(c);
        producer = BenchCluster.transactionalProducer(cluster.bootstrapServers(), "bench-baseline");
        consumer.subscribe(List.of(TASKS));
        thread = new Thread(this::loop, "seed-000-loop");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        try {
            while (running) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty()) {
                    continue;
                }
                producer.beginTransaction();
                List<String> pods = new ArrayList<>();
                Map<String, JsonNode> tasks = new HashMap<>();
                for (ConsumerRecord<String, String> record : records) {
                    JsonNode data = cluster.mapper.readTree(record.value()).path("data");
                    String room = data.path("room_id").asText();
                    tasks.put(room, data);
                    pods.add(launch(room, data));
                }
                for (String pod : pods) {
                    cluster.kubernetes.pods().inNamespace(BenchCluster.BASELINE_NAMESPACE).withName(pod)
                            .waitUntilCondition(Baseline::terminal, 10, TimeUnit.MINUTES);
                }
                for (Map.Entry<String, JsonNode> task : tasks.entrySet()) {
                    String room = task.getKey();
                    Path output = cluster.baselineWorkspace().resolve(room).resolve("output");
                    for (String file : List.of("video.mp4", "result.json", "game.log")) {
                        if (Files.isRegularFile(output.resolve(file))) {
                            cluster.blobs.getBlobContainerClient("records")
                                    .getBlobClient("baseline/" + room + "/" + file)
                                    .uploadFromFile(output.resolve(file).toString(), true);
                        }
                    }
                    ObjectNode result = cluster.mapper.createObjectNode();
                    result.put("room_id", room).put("status", "Pod seed-" + room + " finished");
                    producer.send(new ProducerRecord<>(RESULTS, room, result.toString()));
                }
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (TopicPartition partition : records.partitions()) {
                    List<ConsumerRecord<String, String>> part = records.records(partition);
                    offsets.put(partition, new OffsetAndMetadata(part.get(part.size() - 1).offset() + 1));
                }
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                producer.commitTransaction();
                for (String pod : pods) {
                    cluster.kubernetes.pods().inNamespace(BenchCluster.BASELINE_NAMESPACE).withName(pod).delete();
                }
            }
        } catch (org.apache.kafka.common.errors.InterruptException | org.apache.kafka.common.errors.WakeupException e) {
            // closing
        } catch (Exception e) {
            failure = e;
        }
    }

    private String launch(String room, JsonNode data) throws Exception {
        Path roomDir = cluster.baselineWorkspace().resolve(room);
        JsonNode program = data.path("programs").get(0);
        String codeName = program.path("code_name").asText();
        Path programFile = roomDir.resolve("programs").resolve(codeName).resolve("ml_play.py");
        Files.createDirectories(programFile.getParent());
        String url = program.path("url").asText();
        String blobPath = url.substring(url.indexOf(BenchCluster.PROGRAM_CONTAINER + "/") + BenchCluster.PROGRAM_CONTAINER.length() + 1);
        cluster.blobs.getBlobContainerClient(BenchCluster.PROGRAM_CONTAINER).getBlobClient(blobPath)
                .downloadToFile(programFile.toString(), true);
        Files.createDirectories(roomDir.resolve("output"));
        ObjectNode input = cluster.mapper.createObjectNode();
        input.put("room_id", room).put("game_name", data.path("game_name").asText()).put("instance", 0);
        input.set("game_param", data.path("game_param"));
        input.putArray("programs").addObject().put("code_name", codeName)
                .put("path", "/workspace/" + room + "/programs/" + codeName + "/ml_play.py");
        Files.writeString(roomDir.resolve("input.json"), input.toString(), StandardCharsets.UTF_8);
        String name = "seed-" + room;
        Pod pod = gamePod(name, room, "/workspace/" + room + "/programs/" + codeName + "/ml_play.py");
        cluster.kubernetes.pods().inNamespace(BenchCluster.BASELINE_NAMESPACE).resource(pod).create();
        return name;
    }

    /** A game pod in the baseline's namespace as the simulated node runs it: input and output under the room's folder. */
    static Pod gamePod(String name, String room, String programPath) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace(BenchCluster.BASELINE_NAMESPACE)
                .addToLabels(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY).endMetadata()
                .withNewSpec().withRestartPolicy("Never").addNewContainer().withName(PodRenderer.GAME_CONTAINER)
                .withImage("paiaarena/paiagym:latest")
                .addNewEnv().withName(PodRenderer.ENV_INPUT).withValue("/workspace/" + room + "/input.json").endEnv()
                .addNewEnv().withName(PodRenderer.ENV_OUTPUT).withValue("/workspace/" + room + "/output").endEnv()
                .addNewEnv().withName(PodRenderer.ENV_PLAYER_ARGS).withValue("-i " + programPath).endEnv()
                .endContainer().endSpec().build();
    }

    private static boolean terminal(Pod pod) {
        String phase = pod == null || pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    Exception failure() {
        return failure;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(30_000);
        consumer.close();
        producer.close(Duration.ofSeconds(5));
    }
}
