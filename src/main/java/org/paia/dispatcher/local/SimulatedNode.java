package org.paia.dispatcher.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.pods.PodRenderer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Plays kubelet and the paiagym image for local mode and tests: moves each game pod Pending →
 * Running → Succeeded (or Failed), reads the game input from the workspace and writes what the real
 * image writes — {@code result.json} naming the programs it found, {@code game.log} and a small
 * {@code video.mp4} — into the run's output folder. No GPU and no game run.
 *
 * <p>Knobs, for trying failure paths: a program whose {@code code_name} contains {@code crash}
 * makes the game exit with code 1; one whose {@code code_name} contains {@code noimage} leaves the
 * pod Pending with {@code ErrImagePull}; a pod whose deadline is shorter than the game ends
 * {@code DeadlineExceeded}. In {@code game_param}, for batch runs:
 * <ul>
 *   <li>{@code sim_duration_ms}: the game's duration (default {@code paia.local.node.game-duration});
 *   <li>{@code sim_duration_min_ms} and {@code sim_duration_max_ms}: a duration drawn per instance,
 *       uniformly, the same for the same room and instance every time;
 *   <li>{@code sim_failure_rate} (0 to 1): the share of attempts whose game exits with code 1;
 *   <li>{@code sim_lose_rate} (0 to 1): the share of attempts whose pod the node deletes mid-game,
 *       with no terminal phase (what a node scale-down does).
 * </ul>
 * Failures and losses are drawn per (room, instance, attempt), so a retry draws again.
 */
public class SimulatedNode implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(SimulatedNode.class);
    /** The smallest MP4 header a player recognises: an {@code ftyp} box. */
    private static final byte[] VIDEO = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0,
            'i', 's', 'o', 'm', 'm', 'p', '4', '1'};

    private final KubernetesClient client;
    private final Workspace workspace;
    private final ObjectMapper mapper;
    private final String namespace;
    private final Duration pending;
    private final Duration gameDuration;
    private final Map<String, ScheduledFuture<?>> timers = new ConcurrentHashMap<>();
    private final java.util.List<GameStart> starts = new java.util.concurrent.CopyOnWriteArrayList<>();
    private ScheduledExecutorService executor;
    private SharedIndexInformer<Pod> informer;
    private volatile boolean running;

    public SimulatedNode(KubernetesClient client, Workspace workspace, ObjectMapper mapper,
                         DispatcherProperties properties, Duration pending, Duration gameDuration) {
        this.client = client;
        this.workspace = workspace;
        this.mapper = mapper;
        this.namespace = properties.getKubernetes().getNamespace();
        this.pending = pending;
        this.gameDuration = gameDuration;
    }

    @Override
    public void start() {
        executor = Executors.newScheduledThreadPool(4, r -> {
            Thread t = new Thread(r, "simulated-node");
            t.setDaemon(true);
            return t;
        });
        informer = client.pods().inNamespace(namespace).withLabel(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY)
                .inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod pod) {
                        admit(pod);
                    }

                    @Override
                    public void onUpdate(Pod oldPod, Pod newPod) {
                        if (newPod.getMetadata().getDeletionTimestamp() != null) {
                            killed(newPod.getMetadata().getName());
                        }
                    }

                    @Override
                    public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
                        ScheduledFuture<?> timer = timers.remove(pod.getMetadata().getName());
                        if (timer != null) {
                            timer.cancel(false);
                        }
                    }
                }, 0);
        running = true;
        LOG.warn("SIMULATED NODE: game pods in namespace {} are simulated (Pending {} ms, game {} ms); no GPU, "
                + "no game image is run", namespace, pending.toMillis(), gameDuration.toMillis());
    }

    /**
     * A pod the node has not finished: a new one, or one left Pending or Running when an earlier node
     * stopped (a dispatcher restarted in the same JVM, as a kubelet restart would) — its game starts
     * (again) from here.
     */
    private void admit(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if ("Succeeded".equals(phase) || "Failed".equals(phase) || pod.getMetadata().getDeletionTimestamp() != null) {
            return;
        }
        String name = pod.getMetadata().getName();
        if (asksForMissingImage(pod)) {
            status(name, p -> new PodBuilder(p).editOrNewStatus().withPhase("Pending")
                    .withContainerStatuses(new ContainerStatusBuilder().withName(PodRenderer.GAME_CONTAINER)
                            .withReady(false).withNewState().withNewWaiting().withReason("ErrImagePull")
                            .withMessage("simulated: image not found").endWaiting().endState().build())
                    .endStatus().build());
            return;
        }
        if (phase == null) {
            status(name, p -> new PodBuilder(p).editOrNewStatus().withPhase("Pending").endStatus().build());
        }
        schedule(name, pending, () -> run(name));
    }

    /** A player whose code_name contains "noimage" makes the pod's image unpullable (it stays Pending). */
    private boolean asksForMissingImage(Pod pod) {
        return pod.getSpec().getContainers().stream().flatMap(c -> c.getEnv().stream())
                .anyMatch(e -> PodRenderer.ENV_PLAYER_ARGS.equals(e.getName()) && e.getValue() != null
                        && e.getValue().contains("noimage"));
    }

    private void run(String name) {
        Instant started = Instant.now();
        Pod pod = status(name, p -> new PodBuilder(p).editOrNewStatus().withPhase("Running")
                .withStartTime(started.toString())
                .withContainerStatuses(new ContainerStatusBuilder().withName(PodRenderer.GAME_CONTAINER).withReady(true)
                        .withNewState().withNewRunning().withStartedAt(started.toString()).endRunning().endState()
                        .build())
                .endStatus().build());
        if (pod == null) {
            return;
        }
        PodNames.Listed run = PodNames.describe(pod);
        starts.add(new GameStart(name, run.room(), run.instance(), run.attempt(), started));
        Game game = readGame(pod);
        writeLog(name, game); // as a real game logs while it plays: a game stopped midway leaves its log so far
        if (game.lost) {
            schedule(name, game.duration.dividedBy(2), () -> lose(name));
            return;
        }
        Long deadline = pod.getSpec().getActiveDeadlineSeconds();
        if (deadline != null && game.duration.toMillis() > deadline * 1000) {
            schedule(name, Duration.ofSeconds(deadline), () -> deadlineExceeded(name));
            return;
        }
        schedule(name, game.duration, () -> end(name, game));
    }

    /** A game this node started: the pod went Running and its game began. */
    public record GameStart(String pod, String room, int instance, int attempt, Instant at) {
    }

    /** Every game this node has started, in order (tests check that no game ran after its outcome was recorded). */
    public java.util.List<GameStart> starts() {
        return java.util.List.copyOf(starts);
    }

    /** What the simulated game will do, decided from its input file. */
    private record Game(Path output, Duration duration, int exitCode, String log, ObjectNode result, boolean lost) {
    }

    /** A draw in [0, 1) that is the same for the same room, instance, attempt and purpose. */
    private static double draw(String room, int instance, int attempt, String purpose) {
        long seed = ((room.hashCode() * 31L + instance) * 31L + attempt) * 31L + purpose.hashCode();
        return new SplittableRandom(seed).nextDouble();
    }

    private Duration duration(JsonNode params, String room, int instance) {
        if (params.has("sim_duration_min_ms") && params.has("sim_duration_max_ms")) {
            long min = params.path("sim_duration_min_ms").asLong();
            long max = Math.max(min, params.path("sim_duration_max_ms").asLong());
            return Duration.ofMillis(min + (long) (draw(room, instance, 0, "duration") * (max - min)));
        }
        return params.has("sim_duration_ms") ? Duration.ofMillis(params.path("sim_duration_ms").asLong()) : gameDuration;
    }

    private Game readGame(Pod pod) {
        Map<String, String> env = pod.getSpec().getContainers().stream()
                .filter(c -> PodRenderer.GAME_CONTAINER.equals(c.getName())).findFirst()
                .map(c -> c.getEnv().stream().filter(e -> e.getValue() != null)
                        .collect(java.util.stream.Collectors.toMap(EnvVar::getName, EnvVar::getValue, (a, b) -> b)))
                .orElse(Map.of());
        try {
            Path output = workspace.localPath(env.get(PodRenderer.ENV_OUTPUT));
            JsonNode input = mapper.readTree(workspace.localPath(env.get(PodRenderer.ENV_INPUT)).toFile());
            JsonNode params = input.path("game_param");
            String room = input.path("room_id").asText();
            int instance = input.path("instance").asInt();
            int attempt = input.path("attempt").asInt();
            Duration duration = duration(params, room, instance);
            boolean lost = draw(room, instance, attempt, "lose") < params.path("sim_lose_rate").asDouble(0);
            boolean fails = draw(room, instance, attempt, "fail") < params.path("sim_failure_rate").asDouble(0);
            ObjectNode result = mapper.createObjectNode();
            result.put("simulated", true);
            result.put("game", input.path("game_name").asText());
            result.put("room_id", input.path("room_id").asText());
            result.put("instance", input.path("instance").asInt());
            ArrayNode players = result.putArray("players");
            StringBuilder log = new StringBuilder("[simulated paiagym] run " + input.path("game_name").asText() + "\n");
            int exit = 0;
            int rank = 1;
            for (JsonNode program : input.path("programs")) {
                String codeName = program.path("code_name").asText();
                Path file = workspace.localPath(program.path("path").asText());
                boolean found = Files.isRegularFile(file);
                players.addObject().put("code_name", codeName).put("program", program.path("path").asText())
                        .put("found", found).put("rank", rank++);
                log.append("[simulated paiagym] player ").append(codeName).append(": ")
                        .append(found ? "loaded " + file.getFileName() : "NOT FOUND").append('\n');
                if (!found) {
                    exit = 2;
                } else if (codeName.contains("crash")) {
                    log.append("Traceback (most recent call last):\n  File \"ml_play.py\", line 1, in <module>\n")
                            .append("RuntimeError: simulated crash of ").append(codeName).append('\n');
                    exit = 1;
                }
            }
            if (fails && exit == 0) {
                log.append("RuntimeError: simulated failure (game_param.sim_failure_rate)\n");
                exit = 1;
            }
            result.put("winner", players.isEmpty() ? null : players.get(0).path("code_name").asText());
            return new Game(output, duration, exit, log.toString(), result, lost);
        } catch (IOException | RuntimeException e) {
            LOG.warn("Simulated pod {} cannot read its game input: {}", pod.getMetadata().getName(), e.toString());
            return new Game(null, Duration.ZERO, 3, "cannot read game input: " + e.getMessage() + "\n", null, false);
        }
    }

    private void writeLog(String name, Game game) {
        if (game.output == null) {
            return;
        }
        try {
            Files.createDirectories(game.output);
            Files.writeString(game.output.resolve("game.log"), game.log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            LOG.warn("Simulated pod {} could not write its log: {}", name, e.toString());
        }
    }

    private void end(String name, Game game) {
        try {
            if (game.output != null) {
                Files.createDirectories(game.output);
                Files.writeString(game.output.resolve("game.log"), game.log, StandardCharsets.UTF_8);
                if (game.exitCode == 0) {
                    Files.write(game.output.resolve("video.mp4"), VIDEO);
                    mapper.writerWithDefaultPrettyPrinter().writeValue(game.output.resolve("result.json").toFile(),
                            game.result);
                }
            }
        } catch (IOException e) {
            LOG.warn("Simulated pod {} could not write its output: {}", name, e.toString());
        }
        Instant now = Instant.now();
        ContainerStatus terminated = new ContainerStatusBuilder().withName(PodRenderer.GAME_CONTAINER).withReady(false)
                .withNewState().withNewTerminated().withExitCode(game.exitCode)
                .withReason(game.exitCode == 0 ? "Completed" : "Error").withFinishedAt(now.toString())
                .endTerminated().endState().build();
        status(name, p -> new PodBuilder(p).editOrNewStatus().withPhase(game.exitCode == 0 ? "Succeeded" : "Failed")
                .withContainerStatuses(terminated).endStatus().build());
        timers.remove(name);
        LOG.info("Simulated pod {} {} (exit code {})", name, game.exitCode == 0 ? "succeeded" : "failed", game.exitCode);
    }

    /**
     * The pod is being deleted while its game runs (its finalizer keeps the object): kubelet stops the
     * container, which ends with SIGTERM's exit code.
     */
    private void killed(String name) {
        ScheduledFuture<?> timer = timers.remove(name);
        if (timer == null || !timer.cancel(false)) {
            return;
        }
        ContainerStatus terminated = new ContainerStatusBuilder().withName(PodRenderer.GAME_CONTAINER).withReady(false)
                .withNewState().withNewTerminated().withExitCode(143).withReason("Error")
                .withFinishedAt(Instant.now().toString()).endTerminated().endState().build();
        status(name, p -> new PodBuilder(p).editOrNewStatus().withPhase("Failed").withContainerStatuses(terminated)
                .endStatus().build());
    }

    /** The node goes away mid-game: the pod is deleted with no terminal phase. */
    private void lose(String name) {
        timers.remove(name);
        client.pods().inNamespace(namespace).withName(name).delete();
        LOG.info("Simulated pod {} lost: deleted mid-game (game_param.sim_lose_rate)", name);
    }

    private void deadlineExceeded(String name) {
        status(name, p -> new PodBuilder(p).editOrNewStatus().withPhase("Failed").withReason("DeadlineExceeded")
                .withMessage("Pod was active on the node longer than the specified deadline").endStatus().build());
        timers.remove(name);
    }

    private void schedule(String name, Duration delay, Runnable step) {
        timers.put(name, executor.schedule(() -> {
            try {
                step.run();
            } catch (RuntimeException e) {
                if (running) {
                    LOG.warn("Simulated node step for {} failed: {}", name, e.toString());
                } else {
                    LOG.debug("Simulated node step for {} not done, the node is stopping: {}", name, e.toString());
                }
            }
        }, delay.toMillis(), TimeUnit.MILLISECONDS));
    }

    /** Writes the pod's status as kubelet would; null when the pod is gone. */
    private Pod status(String name, UnaryOperator<Pod> edit) {
        try {
            return client.pods().inNamespace(namespace).withName(name).editStatus(edit);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                return null;
            }
            throw e;
        }
    }

    @Override
    public void stop() {
        running = false;
        if (informer != null) {
            informer.close();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
