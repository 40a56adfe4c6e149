package org.paia.dispatcher.startup;

import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.models.ListBlobsOptions;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.pods.GameLauncher;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.task.GameTask;
import org.paia.dispatcher.task.TaskParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Takes the first task's cold start off the first task (issue 13): a dispatcher restarted after a crash or a
 * deploy took seconds from the first publish to the first pod, loading the classes of task parsing, pod
 * rendering, the Azure SDK's HTTP pipeline and fabric8's pod model on the way. Right after the beans are
 * made, while Tomcat and Camel still start, a background thread goes through those paths once without a
 * side effect: it parses and validates a made-up task, renders its pod and reads it back from JSON (typed, and
 * untyped as a watch event's object), lists
 * the records container under a prefix nothing uses, and lists at most one game pod. A step that fails
 * (a server not up yet) is logged and skipped: the warm-up is never a reason not to start.
 */
public class WarmUp implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(WarmUp.class);

    private final TaskParser parser;
    private final GameLauncher launcher;
    private final Workspace workspace;
    private final ObjectMapper mapper;
    private final BlobServiceClient blobs;
    private final KubernetesClient kubernetes;
    private final DispatcherProperties properties;
    private volatile Thread thread;
    private volatile Map<String, String> steps = Map.of();

    public WarmUp(TaskParser parser, GameLauncher launcher, Workspace workspace, ObjectMapper mapper, BlobServiceClient blobs,
                  KubernetesClient kubernetes, DispatcherProperties properties) {
        this.parser = parser;
        this.launcher = launcher;
        this.workspace = workspace;
        this.mapper = mapper;
        this.blobs = blobs;
        this.kubernetes = kubernetes;
        this.properties = properties;
    }

    private interface Step {
        void run() throws Exception;
    }

    void warmUp() {
        long started = System.nanoTime();
        Map<String, String> done = new LinkedHashMap<>();
        GameTask[] task = new GameTask[1];
        step(done, "task parsing", () -> task[0] = parser.parse(sampleTask()));
        step(done, "pod rendering", () -> {
            if (task[0] == null) {
                throw new IllegalStateException("no task parsed");
            }
            GameRun run = new GameRun(task[0], 0, 1);
            Pod pod = launcher.renderPod(run, List.of(workspace.programDir(run.roomId(), "warm_up").resolve("ml_play.py")));
            String json = kubernetes.getKubernetesSerialization().asJson(pod);
            kubernetes.getKubernetesSerialization().unmarshal(json, Pod.class);
            // Untyped, as a watch event's object is read: this builds fabric8's registry of every resource kind (a
            // scan of the class path), which the first watch event otherwise did on the HTTP client's event loop,
            // holding the first pod creates back by seconds.
            kubernetes.getKubernetesSerialization().unmarshal(json);
        });
        step(done, "Blob Storage", () -> blobs.getBlobContainerClient(properties.getStorage().getRecordsContainer())
                .listBlobs(new ListBlobsOptions().setPrefix("paia-warm-up/").setMaxResultsPerPage(1), Duration.ofSeconds(30))
                .stream().findFirst());
        step(done, "Kubernetes", () -> kubernetes.pods().inNamespace(properties.getKubernetes().getNamespace())
                .withLabel(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY).list(new ListOptionsBuilder().withLimit(1L).build()));
        steps = done;
        LOG.info("Warm-up done in {} ms: {}", (System.nanoTime() - started) / 1_000_000,
                done.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")));
    }

    private static void step(Map<String, String> done, String name, Step step) {
        long t0 = System.nanoTime();
        try {
            step.run();
            done.put(name, (System.nanoTime() - t0) / 1_000_000 + " ms");
        } catch (Exception | LinkageError e) {
            // The message only: an SDK's exception text never carries the key, but a stack trace says nothing more here.
            done.put(name, "skipped (" + e.getClass().getSimpleName() + ")");
            LOG.warn("Warm-up step '{}' skipped: {}", name, e.getClass().getName());
        }
    }

    /** A task as the web service sends it, for the first configured game, its program in this account. */
    private byte[] sampleTask() throws Exception {
        String room = "warm-up-" + UUID.randomUUID();
        String game = properties.getGames().keySet().stream().sorted().findFirst()
                .orElseThrow(() -> new IllegalStateException("no game configured"));
        ObjectNode envelope = mapper.createObjectNode().put("type", "game_cmd");
        ObjectNode data = envelope.putObject("data");
        data.put("category", "3D").put("game_id", 0).put("game_name", game).put("room_id", room);
        data.putObject("game_param");
        data.putArray("plug_in_data");
        data.putArray("programs").addObject().put("url", parser.accountUrl() + "/paia-warm-up/warm-up")
                .put("code_name", "warm_up");
        data.put("ws_uri", "ws://paia-warm-up/ws/game_server/room/" + room);
        return mapper.writeValueAsString(envelope).getBytes(StandardCharsets.UTF_8);
    }

    /** Each step and what it took (or why it was skipped), once the warm-up is done; empty before. */
    public Map<String, String> steps() {
        return steps;
    }

    @Override
    public void start() {
        thread = new Thread(this::warmUp, "warm-up");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
    }

    @Override
    public void stop() {
        Thread running = thread;
        if (running != null) {
            running.interrupt();
        }
        thread = null;
    }

    @Override
    public boolean isRunning() {
        return thread != null;
    }

    /** Before Tomcat's web server and Camel start (both later phases), so that it overlaps them. */
    @Override
    public int getPhase() {
        return Integer.MIN_VALUE;
    }
}
