package org.paia.dispatcher.bench;

import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.paia.dispatcher.pods.PodNames;

/**
 * Issue 13's CPU reference: the external calls of one game run, written plainly, in a JVM of its own so
 * that its process CPU is its own: write the game input, create the pod, take its terminal event from one
 * shared watch (an informer, as the dispatcher's), upload the three artifacts the game wrote, write the
 * outcome in a Kafka transaction of its own, delete the pod. As many runs in flight as the dispatcher's
 * capacity, a launch pool and a finish pool as the dispatcher's defaults. The pods run on the bench's
 * simulated node (the baseline's namespace). Measured after a warm-up, so the JIT's start is not in it.
 *
 * <p>Run by {@link #inChildJvm}; prints one line {@code RAW runs=… cpu_ns=… wall_ns=…}.
 */
public final class RawRunLoop {

    private static final Pattern RESULT = Pattern.compile("RAW runs=(\\d+) cpu_ns=(\\d+) wall_ns=(\\d+)");

    record Result(int runs, long cpuNanos, long wallNanos) {
        double cpuSecondsPer1000() {
            return cpuNanos / 1e9 / runs * 1000;
        }
    }

    /** Runs the loop in a child JVM (the bench's classpath, {@code -Xmx512m} as the dispatcher) and returns its figures. */
    static Result inChildJvm(BenchCluster cluster, int warmup, int runs, int inFlight, Path log) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), RawRunLoop.class.getName(),
                cluster.bootstrapServers(), cluster.kubernetesUrl(), cluster.baselineWorkspace().toString(),
                Integer.toString(warmup), Integer.toString(runs), Integer.toString(inFlight)));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("PAIA_STORAGE_CONNECTION_STRING", cluster.storageConnectionString());
        Process process = builder.start();
        if (!process.waitFor(20, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IllegalStateException("the raw run loop did not finish in 20 minutes; see " + log);
        }
        Matcher m = RESULT.matcher(Files.readString(log, StandardCharsets.UTF_8));
        if (process.exitValue() != 0 || !m.find()) {
            throw new IllegalStateException("the raw run loop failed (exit " + process.exitValue() + "); see " + log);
        }
        return new Result(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)));
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String kubernetesUrl = args[1];
        Path workspace = Path.of(args[2]);
        int warmup = Integer.parseInt(args[3]);
        int runs = Integer.parseInt(args[4]);
        int inFlight = Integer.parseInt(args[5]);
        RawRunLoop loop = new RawRunLoop(bootstrap, kubernetesUrl, workspace, System.getenv("PAIA_STORAGE_CONNECTION_STRING"));
        try {
            loop.run("warm", warmup, inFlight);
            com.sun.management.OperatingSystemMXBean os =
                    (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            loop.run("run", runs, inFlight);
            long wall = System.nanoTime() - t0;
            long cpu = os.getProcessCpuTime() - cpu0;
            System.out.printf(Locale.ROOT, "RAW runs=%d cpu_ns=%d wall_ns=%d%n", runs, cpu, wall);
        } finally {
            loop.close();
            System.out.flush();
            Runtime.getRuntime().halt(0); // client threads must not keep it
        }
    }

    private final KubernetesClient kubernetes;
    private final SharedIndexInformer<Pod> informer;
    private final Map<String, CompletableFuture<Pod>> ended = new ConcurrentHashMap<>();
    private final BlobContainerClient records;
    private final String bootstrap;
    private final Path workspace;
    private final ExecutorService launchPool = Executors.newFixedThreadPool(8);
    private final ExecutorService finishPool = Executors.newFixedThreadPool(4);
    private final ThreadLocal<KafkaProducer<String, String>> producers = new ThreadLocal<>();
    private final List<KafkaProducer<String, String>> allProducers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger producerIds = new AtomicInteger();
    private final String program;

    private RawRunLoop(String bootstrap, String kubernetesUrl, Path workspace, String storage) throws Exception {
        this.bootstrap = bootstrap;
        this.workspace = workspace;
        kubernetes = new KubernetesClientBuilder().withConfig(new ConfigBuilder().withMasterUrl(kubernetesUrl)
                .withNamespace(BenchCluster.BASELINE_NAMESPACE).build()).build();
        informer = kubernetes.pods().inNamespace(BenchCluster.BASELINE_NAMESPACE)
                .withLabel(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY).inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod pod) {
                        onPod(pod);
                    }

                    @Override
                    public void onUpdate(Pod oldPod, Pod newPod) {
                        onPod(newPod);
                    }

                    @Override
                    public void onDelete(Pod pod, boolean unknown) {
                    }
                }, 0);
        records = new BlobServiceClientBuilder().connectionString(storage)
                .retryOptions(new RequestRetryOptions(RetryPolicyType.EXPONENTIAL, 2, Duration.ofSeconds(60),
                        Duration.ofMillis(200), Duration.ofSeconds(2), null))
                .buildClient().getBlobContainerClient("records");
        Path file = workspace.resolve("raw-run-programs/bench_player/ml_play.py");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "class MLPlay: pass\n");
        program = "/workspace/raw-run-programs/bench_player/ml_play.py";
    }

    private void onPod(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
            CompletableFuture<Pod> run = ended.get(pod.getMetadata().getName());
            if (run != null) {
                run.complete(pod);
            }
        }
    }

    private void run(String label, int runs, int inFlight) throws Exception {
        Semaphore slots = new Semaphore(inFlight);
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            slots.acquire();
            String room = "raw-" + label + "-" + i + "-" + System.nanoTime();
            all.add(CompletableFuture.supplyAsync(() -> launch(room), launchPool)
                    .thenCompose(pod -> ended.get(pod))
                    .thenAcceptAsync(pod -> finish(room, pod), finishPool)
                    .whenComplete((ok, failure) -> {
                        slots.release();
                        if (failure != null) {
                            failure.printStackTrace();
                        }
                    }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(20, TimeUnit.MINUTES);
    }

    private String launch(String room) {
        try {
            Path roomDir = workspace.resolve(room);
            Files.createDirectories(roomDir.resolve("output"));
            String input = """
                    {"room_id": "%s", "game_name": "kart_3d", "instance": 0, "attempt": 1,
                     "game_param": {"sim_duration_ms": 0},
                     "programs": [{"code_name": "bench_player", "path": "%s"}]}
                    """.formatted(room, program);
            Files.writeString(roomDir.resolve("input.json"), input, StandardCharsets.UTF_8);
            String name = "raw-" + Integer.toHexString(room.hashCode()) + "-" + Long.toHexString(System.nanoTime());
            ended.put(name, new CompletableFuture<>());
            Pod pod = Baseline.gamePod(name, room, program);
            kubernetes.pods().inNamespace(BenchCluster.BASELINE_NAMESPACE).resource(pod).create();
            return name;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void finish(String room, Pod pod) {
        Path output = workspace.resolve(room).resolve("output");
        for (String file : List.of("video.mp4", "result.json", "game.log")) {
            records.getBlobClient("raw/" + room + "/" + file).uploadFromFile(output.resolve(file).toString(), true);
        }
        KafkaProducer<String, String> producer = producer();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>("bench.rawrun.ledger", room,
                "{\"type\":\"OUTCOME_RECORDED\",\"room_id\":\"" + room + "\",\"phase\":\""
                        + pod.getStatus().getPhase() + "\"}"));
        producer.commitTransaction();
        ended.remove(pod.getMetadata().getName());
        kubernetes.pods().inNamespace(BenchCluster.BASELINE_NAMESPACE).withName(pod.getMetadata().getName()).delete();
    }

    private KafkaProducer<String, String> producer() {
        KafkaProducer<String, String> producer = producers.get();
        if (producer == null) {
            producer = BenchCluster.transactionalProducer(bootstrap, "bench.rawrun." + producerIds.incrementAndGet());
            producers.set(producer);
            allProducers.add(producer);
        }
        return producer;
    }

    private void close() {
        informer.close();
        allProducers.forEach(p -> p.close(Duration.ofSeconds(2)));
        kubernetes.close();
    }
}
