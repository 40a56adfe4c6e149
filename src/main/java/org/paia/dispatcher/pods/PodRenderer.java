package org.paia.dispatcher.pods;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.paia.dispatcher.config.GpuPools;

/**
 * Fills the game pod template for one run. A pure function of the template text and its inputs:
 * it reads no files and calls no API, so every rule is unit-tested on its own.
 *
 * <p>The template owns everything operators tune (command, resources, node selector, tolerations,
 * X display, security context); the renderer sets what identifies and isolates a run: name, labels,
 * image, the workspace volume, the run's environment, {@code restartPolicy: Never}, the deadline, and
 * no service-account token (user code is untrusted). A run's GPU pool adds its node selector entries and
 * tolerations to the template's, and its name as the {@code paia.io/pool} label.
 */
public class PodRenderer {

    public static final String GAME_CONTAINER = "game";
    public static final String WORKSPACE_VOLUME = "workspace";
    public static final String GPU_RESOURCE = "nvidia.com/gpu";
    public static final String ENV_GAME = "PAIA_GAME";
    public static final String ENV_INPUT = "PAIA_INPUT";
    public static final String ENV_OUTPUT = "PAIA_OUTPUT";
    public static final String ENV_PLAYER_ARGS = "PAIA_PLAYER_ARGS";
    public static final String ENV_INSTANCE = "PAIA_INSTANCE";
    public static final String ENV_ATTEMPT = "PAIA_ATTEMPT";

    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    /** The template, parsed once; every render starts from a deep copy of it. */
    private final Pod template;

    public PodRenderer(String templateYaml) {
        this.template = SERIALIZATION.unmarshal(templateYaml, Pod.class);
        validate(template);
    }

    /**
     * What varies from run to run. {@code pool}: the run's GPU pool, whose {@code nodeSelector} entries and
     * {@code tolerations} are added to the template's.
     */
    public record RunSpec(String podName, String namespace, String roomId, int instance, int attempt, String gameName,
                          String image, String claimName, String mountPath, String inputPath, String outputPath,
                          List<String> playerFiles, long activeDeadlineSeconds, String pool,
                          Map<String, String> nodeSelector, List<Toleration> tolerations) {

        /** A run in the default pool, which adds nothing to the template's placement. */
        public RunSpec(String podName, String namespace, String roomId, int instance, int attempt, String gameName,
                       String image, String claimName, String mountPath, String inputPath, String outputPath,
                       List<String> playerFiles, long activeDeadlineSeconds) {
            this(podName, namespace, roomId, instance, attempt, gameName, image, claimName, mountPath, inputPath,
                    outputPath, playerFiles, activeDeadlineSeconds, GpuPools.DEFAULT, Map.of(), List.of());
        }
    }

    public Pod render(RunSpec run) {
        Pod pod = parseTemplate();
        pod.getMetadata().setName(run.podName());
        pod.getMetadata().setNamespace(run.namespace());
        pod.getMetadata().setGenerateName(null);
        Map<String, String> labels = new LinkedHashMap<>(nullSafe(pod.getMetadata().getLabels()));
        labels.put("app.kubernetes.io/name", "paiagym");
        labels.put(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY);
        labels.put(PodNames.ROOM_LABEL, PodNames.roomLabel(run.roomId()));
        labels.put(PodNames.INSTANCE_LABEL, Integer.toString(run.instance()));
        labels.put(PodNames.ATTEMPT_LABEL, Integer.toString(run.attempt()));
        labels.put(PodNames.POOL_LABEL, run.pool());
        pod.getMetadata().setLabels(labels);
        Map<String, String> annotations = new LinkedHashMap<>(nullSafe(pod.getMetadata().getAnnotations()));
        annotations.put(PodNames.ROOM_ANNOTATION, run.roomId());
        pod.getMetadata().setAnnotations(annotations);
        List<String> finalizers = new ArrayList<>(pod.getMetadata().getFinalizers() == null ? List.of()
                : pod.getMetadata().getFinalizers());
        if (!finalizers.contains(PodNames.FINALIZER)) {
            finalizers.add(PodNames.FINALIZER);
        }
        pod.getMetadata().setFinalizers(finalizers);

        PodSpec spec = pod.getSpec();
        spec.setRestartPolicy("Never");
        spec.setAutomountServiceAccountToken(false);
        spec.setEnableServiceLinks(false);
        spec.setActiveDeadlineSeconds(run.activeDeadlineSeconds());
        // The pool's placement on top of the template's: its nodes' labels, and the taints they carry.
        Map<String, String> nodeSelector = new LinkedHashMap<>(nullSafe(spec.getNodeSelector()));
        nodeSelector.putAll(run.nodeSelector());
        spec.setNodeSelector(nodeSelector.isEmpty() ? null : nodeSelector);
        List<Toleration> tolerations = new ArrayList<>(spec.getTolerations() == null ? List.of() : spec.getTolerations());
        run.tolerations().stream().filter(t -> !tolerations.contains(t)).forEach(tolerations::add);
        spec.setTolerations(tolerations.isEmpty() ? null : tolerations);
        List<Volume> volumes = new ArrayList<>(spec.getVolumes() == null ? List.of() : spec.getVolumes());
        volumes.removeIf(v -> WORKSPACE_VOLUME.equals(v.getName()));
        volumes.add(new VolumeBuilder().withName(WORKSPACE_VOLUME)
                .withNewPersistentVolumeClaim().withClaimName(run.claimName()).endPersistentVolumeClaim().build());
        spec.setVolumes(volumes);

        Container game = gameContainer(pod);
        game.setImage(run.image());
        List<VolumeMount> mounts = new ArrayList<>(game.getVolumeMounts() == null ? List.of() : game.getVolumeMounts());
        mounts.removeIf(m -> WORKSPACE_VOLUME.equals(m.getName()));
        mounts.add(new VolumeMountBuilder().withName(WORKSPACE_VOLUME).withMountPath(run.mountPath()).build());
        game.setVolumeMounts(mounts);
        List<EnvVar> env = new ArrayList<>(game.getEnv() == null ? List.of() : game.getEnv());
        Map<String, String> runEnv = new LinkedHashMap<>();
        runEnv.put(ENV_GAME, run.gameName());
        runEnv.put(ENV_INPUT, run.inputPath());
        runEnv.put(ENV_OUTPUT, run.outputPath());
        runEnv.put(ENV_PLAYER_ARGS, playerArgs(run.playerFiles()));
        runEnv.put(ENV_INSTANCE, Integer.toString(run.instance()));
        runEnv.put(ENV_ATTEMPT, Integer.toString(run.attempt()));
        env.removeIf(e -> runEnv.containsKey(e.getName()));
        runEnv.forEach((name, value) -> env.add(new EnvVar(name, value, null)));
        game.setEnv(env);
        ResourceRequirements resources = game.getResources() == null ? new ResourceRequirements() : game.getResources();
        Map<String, Quantity> limits = new LinkedHashMap<>(nullSafe(resources.getLimits()));
        limits.putIfAbsent(GPU_RESOURCE, new Quantity("1"));
        resources.setLimits(limits);
        game.setResources(resources);
        return pod;
    }

    /** {@code -i <file>} once per player, as {@code paiagym run <game> -i ...} expects. */
    static String playerArgs(List<String> files) {
        StringBuilder args = new StringBuilder();
        for (String file : files) {
            if (!args.isEmpty()) {
                args.append(' ');
            }
            args.append("-i ").append(file);
        }
        return args.toString();
    }

    private Pod parseTemplate() {
        return new PodBuilder(template).build();
    }

    private static void validate(Pod template) {
        if (template == null || template.getSpec() == null || template.getSpec().getContainers() == null
                || template.getSpec().getContainers().isEmpty()) {
            throw new IllegalArgumentException("pod template must be a Pod with at least one container");
        }
        if (template.getMetadata() == null) {
            template.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMeta());
        }
        gameContainer(template);
    }

    private static Container gameContainer(Pod pod) {
        if (pod.getMetadata() == null) {
            pod.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMeta());
        }
        List<Container> containers = pod.getSpec().getContainers();
        return containers.stream().filter(c -> GAME_CONTAINER.equals(c.getName())).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(
                        "pod template has no container named '" + GAME_CONTAINER + "'"));
    }

    private static <K, V> Map<K, V> nullSafe(Map<K, V> map) {
        return map == null ? Map.of() : map;
    }
}
