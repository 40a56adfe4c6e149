package org.paia.dispatcher.pods;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class PodRendererTest {

    private static final String ROOM = "8f8ef481-911b-432a-aacd-670be3b8f288";

    private static String defaultTemplate() throws IOException {
        try (InputStream in = PodRendererTest.class.getResourceAsStream("/pod-template.yaml")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static PodRenderer.RunSpec spec() {
        return new PodRenderer.RunSpec(PodNames.podName(ROOM, 0, 1), "paia", ROOM, 0, 1, "kart_3d",
                "paiaarena/paiagym:1.2", "paia-workspace", "/workspace", "/workspace/" + ROOM + "/run-0-1/input.json",
                "/workspace/" + ROOM + "/run-0-1/output",
                List.of("/workspace/" + ROOM + "/programs/a/ml_play.py", "/workspace/" + ROOM + "/programs/b/ml_play.py"),
                1800);
    }

    @Test
    void rendersTheDefaultTemplateForARun() throws Exception {
        Pod pod = new PodRenderer(defaultTemplate()).render(spec());

        assertThat(pod.getMetadata().getName()).isEqualTo("paiagym-" + ROOM + "-0-1");
        assertThat(pod.getMetadata().getNamespace()).isEqualTo("paia");
        assertThat(pod.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "paia-dispatcher")
                .containsEntry("paia.io/room", ROOM).containsEntry("paia.io/instance", "0")
                .containsEntry("paia.io/attempt", "1");
        assertThat(pod.getMetadata().getAnnotations())
                .containsEntry("cluster-autoscaler.kubernetes.io/safe-to-evict", "false")
                .containsEntry("paia.io/room-id", ROOM);
        assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
        assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
        assertThat(pod.getSpec().getActiveDeadlineSeconds()).isEqualTo(1800L);
        assertThat(pod.getSpec().getVolumes()).anySatisfy(v -> {
            assertThat(v.getName()).isEqualTo("workspace");
            assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("paia-workspace");
        });
        Container game = pod.getSpec().getContainers().get(0);
        assertThat(game.getImage()).isEqualTo("paiaarena/paiagym:1.2");
        assertThat(game.getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("1"));
        assertThat(game.getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getName()).isEqualTo("workspace");
            assertThat(m.getMountPath()).isEqualTo("/workspace");
        });
        Map<String, String> env = game.getEnv().stream().filter(e -> e.getValue() != null)
                .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
        assertThat(env).containsEntry("DISPLAY", ":0").containsEntry("PAIA_GAME", "kart_3d")
                .containsEntry("PAIA_PLAYER_ARGS", "-i /workspace/" + ROOM + "/programs/a/ml_play.py -i /workspace/"
                        + ROOM + "/programs/b/ml_play.py")
                .containsEntry("PAIA_OUTPUT", "/workspace/" + ROOM + "/run-0-1/output");
    }

    @Test
    void theTokenNeverReachesThePodSpec() throws Exception {
        String yaml = new io.fabric8.kubernetes.client.utils.KubernetesSerialization()
                .asYaml(new PodRenderer(defaultTemplate()).render(spec()));

        assertThat(yaml).doesNotContain("token").doesNotContain("ws://");
    }

    @Test
    void keepsWhatTheTemplateOwnsAndFillsWhatItLacks() {
        String template = """
                apiVersion: v1
                kind: Pod
                metadata:
                  labels: {team: games}
                spec:
                  restartPolicy: Always
                  automountServiceAccountToken: true
                  nodeSelector: {gpu: a100}
                  containers:
                    - name: sidecar
                      image: busybox
                    - name: game
                      image: ignored
                      env:
                        - {name: PAIA_GAME, value: overridden}
                  volumes:
                    - name: workspace
                      emptyDir: {}
                """;

        Pod pod = new PodRenderer(template).render(spec());

        assertThat(pod.getMetadata().getLabels()).containsEntry("team", "games");
        assertThat(pod.getSpec().getNodeSelector()).containsEntry("gpu", "a100");
        assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
        assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
        assertThat(pod.getSpec().getContainers().get(0).getImage()).isEqualTo("busybox");
        Container game = pod.getSpec().getContainers().get(1);
        assertThat(game.getEnv()).filteredOn(e -> e.getName().equals("PAIA_GAME")).singleElement()
                .satisfies(e -> assertThat(e.getValue()).isEqualTo("kart_3d"));
        assertThat(game.getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("1"));
        assertThat(pod.getSpec().getVolumes()).singleElement()
                .satisfies(v -> assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("paia-workspace"));
    }

    @Test
    void eachRenderIsIndependentOfTheLast() throws Exception {
        PodRenderer renderer = new PodRenderer(defaultTemplate());
        Pod first = renderer.render(spec());
        Pod unchanged = renderer.render(spec());
        first.getMetadata().getLabels().put("mutated", "yes");
        first.getSpec().getContainers().get(0).getEnv().add(new io.fabric8.kubernetes.api.model.EnvVar("X", "y", null));
        first.getSpec().getContainers().get(0).getResources().getLimits().clear();
        first.getSpec().getVolumes().clear();

        // Renders start from a deep copy of the template parsed once: nothing a caller does leaks.
        assertThat(renderer.render(spec())).isEqualTo(unchanged);
    }

    @Test
    void rejectsATemplateWithoutAGameContainer() {
        assertThatThrownBy(() -> new PodRenderer("""
                apiVersion: v1
                kind: Pod
                spec:
                  containers:
                    - name: other
                      image: x
                """)).hasMessageContaining("no container named 'game'");
        assertThatThrownBy(() -> new PodRenderer("apiVersion: v1\nkind: Pod\n"))
                .hasMessageContaining("at least one container");
    }

    @Test
    void aRunsPoolAddsItsNodeSelectorAndTolerationsToTheTemplatesAndItsLabel() throws Exception {
        PodRenderer.RunSpec base = spec();
        io.fabric8.kubernetes.api.model.Toleration gpuType = new io.fabric8.kubernetes.api.model.TolerationBuilder()
                .withKey("paia.io/gpu-type").withOperator("Equal").withValue("a10").withEffect("NoSchedule").build();
        io.fabric8.kubernetes.api.model.Toleration templates = new io.fabric8.kubernetes.api.model.TolerationBuilder()
                .withKey("nvidia.com/gpu").withOperator("Exists").withEffect("NoSchedule").build();
        PodRenderer.RunSpec inPool = new PodRenderer.RunSpec(base.podName(), base.namespace(), base.roomId(),
                base.instance(), base.attempt(), base.gameName(), base.image(), base.claimName(), base.mountPath(),
                base.inputPath(), base.outputPath(), base.playerFiles(), base.activeDeadlineSeconds(), "gpu-a",
                Map.of("paia.io/gpu-type", "a10"), List.of(gpuType, templates));
        PodRenderer renderer = new PodRenderer(defaultTemplate());

        Pod pod = renderer.render(inPool);

        assertThat(pod.getMetadata().getLabels()).containsEntry("paia.io/pool", "gpu-a");
        assertThat(pod.getSpec().getNodeSelector()).as("the template's and the pool's")
                .containsExactlyInAnyOrderEntriesOf(Map.of("nvidia.com/gpu.present", "true", "paia.io/gpu-type", "a10"));
        assertThat(pod.getSpec().getTolerations()).as("the template's, once, then the pool's")
                .containsExactly(templates, gpuType);

        Pod inDefault = renderer.render(spec());
        assertThat(inDefault.getMetadata().getLabels()).containsEntry("paia.io/pool", "default");
        assertThat(inDefault.getSpec().getNodeSelector()).containsExactly(Map.entry("nvidia.com/gpu.present", "true"));
        assertThat(inDefault.getSpec().getTolerations()).containsExactly(templates);
        assertThat(renderer.render(spec())).as("a pool's placement does not leak into the next render")
                .isEqualTo(inDefault);
    }

    @Test
    void aPoolsNodeSelectorWinsOverTheTemplatesOnTheSameKey() throws Exception {
        PodRenderer.RunSpec base = spec();
        PodRenderer.RunSpec inPool = new PodRenderer.RunSpec(base.podName(), base.namespace(), base.roomId(),
                base.instance(), base.attempt(), base.gameName(), base.image(), base.claimName(), base.mountPath(),
                base.inputPath(), base.outputPath(), base.playerFiles(), base.activeDeadlineSeconds(), "cpu-only",
                Map.of("nvidia.com/gpu.present", "false"), List.of());

        Pod pod = new PodRenderer(defaultTemplate()).render(inPool);

        assertThat(pod.getSpec().getNodeSelector()).containsExactly(Map.entry("nvidia.com/gpu.present", "false"));
    }
}
