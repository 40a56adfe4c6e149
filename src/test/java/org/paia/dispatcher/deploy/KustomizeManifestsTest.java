package org.paia.dispatcher.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.pods.PodRenderer;

/**
 * The Kustomize manifests in {@code k8s/}: each overlay renders ({@code kubectl kustomize}), every
 * rendered object parses into its fabric8 type, and the properties that make the deployment safe
 * and operable hold. The copies of the configuration under {@code k8s/base/config} must equal
 * their canonical files in {@code src/main/resources} (checked without kubectl too).
 */
class KustomizeManifestsTest {

    private static final Path K8S = Path.of("k8s");
    private static final Path RESOURCES = Path.of("src/main/resources");
    private static final String NAMESPACE = "paia";
    private static final String APP = "paia-dispatcher";
    private static final Set<String> EXPECTED_KINDS = Set.of("Namespace", "ServiceAccount", "Role", "RoleBinding",
            "PersistentVolumeClaim", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy");

    // ---- without kubectl: the copies Kustomize reads are the files the jar has ----

    @Test
    void configCopiesInK8sBaseEqualTheirCanonicalFiles() throws IOException {
        for (String file : List.of("application.yaml", "application-cluster.yaml", "pod-template.yaml")) {
            assertSameContent(RESOURCES.resolve(file), K8S.resolve("base/config").resolve(file));
        }
        assertThat(fileNames(K8S.resolve("base/config/routes"))).as("k8s/base/config/routes (run k8s/sync-config.sh)")
                .isEqualTo(fileNames(RESOURCES.resolve("routes")));
        for (String route : fileNames(RESOURCES.resolve("routes"))) {
            assertSameContent(RESOURCES.resolve("routes").resolve(route), K8S.resolve("base/config/routes").resolve(route));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void theRoutesConfigMapListsEveryRouteFile() throws IOException {
        Map<String, Object> kustomization;
        try (InputStream in = Files.newInputStream(K8S.resolve("base/kustomization.yaml"))) {
            kustomization = Serialization.unmarshal(in, Map.class);
        }
        List<Map<String, Object>> generators = (List<Map<String, Object>>) kustomization.get("configMapGenerator");
        List<String> files = generators.stream().filter(g -> "paia-routes".equals(g.get("name"))).findFirst()
                .map(g -> (List<String>) g.get("files")).orElseThrow();
        assertThat(files.stream().map(f -> Path.of(f).getFileName().toString()).sorted().toList())
                .as("files of configMapGenerator paia-routes in k8s/base/kustomization.yaml")
                .isEqualTo(fileNames(RESOURCES.resolve("routes")));
    }

    // ---- rendered overlays ----

    @ParameterizedTest
    @ValueSource(strings = {"local", "production"})
    void everyRenderedObjectParsesIntoItsTypeInTheDispatchersNamespace(String overlay) throws Exception {
        List<HasMetadata> objects = render(overlay);

        assertThat(objects).allSatisfy(o -> assertThat(o).as("%s %s", o.getKind(), o.getMetadata().getName())
                .isNotInstanceOf(GenericKubernetesResource.class));
        // fabric8 keeps fields its model does not know aside: a misspelt field would be dropped silently
        assertThat(objects.stream().flatMap(o -> unknownFields(o, o.getKind() + " " + o.getMetadata().getName())
                .stream()).toList()).as("fields unknown to the Kubernetes API model").isEmpty();
        assertThat(objects.stream().map(HasMetadata::getKind).collect(Collectors.toSet())).isEqualTo(EXPECTED_KINDS);
        assertThat(objects).filteredOn(o -> !(o instanceof Namespace))
                .allSatisfy(o -> assertThat(o.getMetadata().getNamespace()).as(o.getKind()).isEqualTo(NAMESPACE));
        assertThat(objects).allSatisfy(o -> assertThat(o.getMetadata().getLabels())
                .containsEntry("app.kubernetes.io/part-of", "paia"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "production"})
    void theDeploymentIsReplicatedProbedLimitedAndLockedDown(String overlay) throws Exception {
        Deployment deployment = one(render(overlay), Deployment.class, APP);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        Container app = pod.getContainers().get(0);

        assertThat(deployment.getSpec().getReplicas()).isGreaterThanOrEqualTo(2);
        assertThat(pod.getServiceAccountName()).isEqualTo(APP);
        assertThat(pod.getContainers()).hasSize(1);
        assertThat(pod.getInitContainers()).isNullOrEmpty();

        Set<String> portNames = app.getPorts().stream().map(ContainerPort::getName).collect(Collectors.toSet());
        assertThat(portNames).contains("http", "jolokia");
        assertProbe(app.getLivenessProbe(), "/actuator/health/liveness", portNames);
        // An explicit timeout: Kubernetes' default of 1 s restarted a leader during a broker outage when
        // liveness still asked Kafka (issue 11); it answers from memory now, the timeout is GC headroom.
        assertThat(app.getLivenessProbe().getTimeoutSeconds()).as("liveness timeoutSeconds").isGreaterThanOrEqualTo(2);
        assertProbe(app.getReadinessProbe(), "/actuator/health/readiness", portNames);
        assertProbe(app.getStartupProbe(), "/actuator/health/liveness", portNames);

        assertThat(app.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(app.getResources().getLimits()).containsKeys("cpu", "memory");
        assertThat(Quantity.getAmountInBytes(app.getResources().getLimits().get("memory")))
                .isGreaterThanOrEqualTo(Quantity.getAmountInBytes(app.getResources().getRequests().get("memory")));

        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).isPositive();
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(app.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(app.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(app.getSecurityContext().getPrivileged()).isNotEqualTo(Boolean.TRUE);
        assertThat(app.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(app.getSecurityContext().getCapabilities().getAdd()).isNullOrEmpty();
        // a read-only root needs a writable /tmp (Tomcat, the JVM, the Kafka client)
        String tmp = app.getVolumeMounts().stream().filter(m -> "/tmp".equals(m.getMountPath())).findFirst()
                .orElseThrow().getName();
        assertThat(volume(pod, tmp).getEmptyDir()).isNotNull();
        assertThat(pod.getHostNetwork()).isNotEqualTo(Boolean.TRUE);
        assertThat(pod.getVolumes()).allSatisfy(v -> assertThat(v.getHostPath()).as(v.getName()).isNull());
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "production"})
    void secretsAreOnlyReferencedNeverWritten(String overlay) throws Exception {
        List<HasMetadata> objects = render(overlay);
        Container app = one(objects, Deployment.class, APP).getSpec().getTemplate().getSpec().getContainers().get(0);

        assertThat(objects).noneMatch(o -> "Secret".equals(o.getKind()));
        EnvVar storage = app.getEnv().stream().filter(e -> "PAIA_STORAGE_CONNECTION_STRING".equals(e.getName()))
                .findFirst().orElseThrow();
        assertThat(storage.getValue()).isNull();
        assertThat(storage.getValueFrom().getSecretKeyRef().getName()).isEqualTo("paia-dispatcher-secrets");
        assertThat(storage.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("storage-connection-string");
        // nothing that looks like a credential has a literal value
        assertThat(app.getEnv()).filteredOn(e -> e.getName().matches(".*(KEY|SECRET|PASSWORD|TOKEN|CONNECTION_STRING|SAS).*"))
                .allSatisfy(e -> assertThat(e.getValue()).as(e.getName()).isNull());
        String allConfig = objects.stream().filter(ConfigMap.class::isInstance).map(ConfigMap.class::cast)
                .flatMap(c -> c.getData().values().stream()).collect(Collectors.joining("\n"));
        assertThat(allConfig).doesNotContain("AccountKey=").doesNotContain("SharedAccessSignature")
                .doesNotContain("sig=").doesNotContain("password:");
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "production"})
    void theRoleIsNamespacedBoundToTheServiceAccountAndIsTheOneRbacItChecks(String overlay) throws Exception {
        List<HasMetadata> objects = render(overlay);
        Role role = one(objects, Role.class, APP);
        RoleBinding binding = one(objects, RoleBinding.class, APP);
        one(objects, ServiceAccount.class, APP);

        // RbacIT proves these rules against the dispatcher's real API calls
        assertThat(role.getRules()).isEqualTo(RbacIT.baseRole().getRules());
        assertThat(RbacIT.granted(role)).containsExactlyInAnyOrder("create /pods", "get /pods", "list /pods",
                "watch /pods", "delete /pods", "patch /pods", "get /pods/log",
                "get coordination.k8s.io/leases", "create coordination.k8s.io/leases",
                "update coordination.k8s.io/leases");
        assertThat(binding.getRoleRef().getKind()).isEqualTo("Role");
        assertThat(binding.getRoleRef().getName()).isEqualTo(APP);
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo(APP);
            assertThat(s.getNamespace()).isEqualTo(NAMESPACE);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "production"})
    void aDisruptionBudgetKeepsOneReplicaAndTheServiceExposesJolokia(String overlay) throws Exception {
        List<HasMetadata> objects = render(overlay);
        Deployment deployment = one(objects, Deployment.class, APP);
        Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();

        PodDisruptionBudget pdb = one(objects, PodDisruptionBudget.class, APP);
        assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        assertThat(pdb.getSpec().getMinAvailable()).isEqualTo(new IntOrString(1));
        assertThat(deployment.getSpec().getReplicas()).isGreaterThan(pdb.getSpec().getMinAvailable().getIntVal());

        Service service = one(objects, Service.class, APP);
        assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
        Set<String> containerPorts = deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getPorts()
                .stream().map(ContainerPort::getName).collect(Collectors.toSet());
        assertThat(service.getSpec().getPorts()).extracting(p -> p.getName()).contains("http", "jolokia");
        assertThat(service.getSpec().getPorts()).allSatisfy(p -> assertThat(containerPorts)
                .contains(p.getTargetPort().getStrVal()));
        // Hawtio Online reads the Jolokia path and protocol from these pod annotations
        assertThat(deployment.getSpec().getTemplate().getMetadata().getAnnotations())
                .containsEntry("hawt.io/jolokiaPath", "/actuator/jolokia/").containsEntry("hawt.io/protocol", "http");
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "production"})
    void gamePodsMayOnlyResolveNamesAndReachTheWebSocket(String overlay) throws Exception {
        List<HasMetadata> objects = render(overlay);
        NetworkPolicy policy = one(objects, NetworkPolicy.class, "paia-game-pods");

        // the policy selects exactly what the dispatcher creates from the deployed template
        Pod game = new PodRenderer(configMapData(objects, "paia-pod-template", "pod-template.yaml")).render(
                new PodRenderer.RunSpec("paiagym-r-0-0", NAMESPACE, "r", 0, 0, "kart_3d", "paiaarena/paiagym:latest",
                        "paia-workspace", "/workspace", "/workspace/r/in.json", "/workspace/r/out", List.of(), 60));
        assertThat(game.getMetadata().getLabels()).containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
        assertThat(policy.getSpec().getPodSelector().getMatchLabels()).containsEntry(PodNames.MANAGED_BY_LABEL,
                PodNames.MANAGED_BY);
        assertThat(game.getSpec().getAutomountServiceAccountToken()).isFalse();
        // and never the dispatcher's pods
        Map<String, String> dispatcherLabels = one(objects, Deployment.class, APP).getSpec().getTemplate().getMetadata()
                .getLabels();
        assertThat(dispatcherLabels.entrySet()).doesNotContainAnyElementsOf(
                policy.getSpec().getPodSelector().getMatchLabels().entrySet());

        assertThat(policy.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
        assertThat(policy.getSpec().getIngress()).isEmpty();
        List<NetworkPolicyEgressRule> egress = policy.getSpec().getEgress();
        assertThat(egress).hasSize(2).allSatisfy(rule -> {
            assertThat(rule.getTo()).as("an egress rule without 'to' allows every destination").isNotEmpty();
            assertThat(rule.getPorts()).as("an egress rule without ports allows every port").isNotEmpty();
            for (NetworkPolicyPeer peer : rule.getTo()) {
                if (peer.getIpBlock() != null) {
                    assertThat(peer.getIpBlock().getCidr()).isNotIn("0.0.0.0/0", "::/0");
                } else {
                    assertThat(peer.getNamespaceSelector()).as("a peer in every namespace").isNotNull();
                    assertThat(peer.getPodSelector()).as("every pod of a namespace").isNotNull();
                }
            }
        });
        NetworkPolicyEgressRule dns = egress.get(0);
        assertThat(dns.getPorts()).extracting(NetworkPolicyPort::getPort).containsOnly(new IntOrString(53));
        assertThat(dns.getTo()).singleElement().satisfies(peer -> assertThat(peer.getPodSelector().getMatchLabels())
                .containsEntry("k8s-app", "kube-dns"));
        NetworkPolicyEgressRule webSocket = egress.get(1);
        assertThat(webSocket.getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getProtocol()).isEqualTo("TCP");
            assertThat(p.getPort()).isEqualTo(new IntOrString(443));
        });
        // not the namespace of the dispatcher, whose pods can reach the API, the broker and storage
        assertThat(webSocket.getTo()).allSatisfy(peer -> assertThat(Optional.ofNullable(peer.getNamespaceSelector())
                .map(s -> s.getMatchLabels().get("kubernetes.io/metadata.name")).orElse("")).isNotEqualTo(NAMESPACE));
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "production"})
    void theConfigMapsCarryTheApplicationConfigRoutesAndPodTemplateAndAreMounted(String overlay) throws Exception {
        List<HasMetadata> objects = render(overlay);
        PodSpec pod = one(objects, Deployment.class, APP).getSpec().getTemplate().getSpec();
        Map<String, String> env = pod.getContainers().get(0).getEnv().stream().filter(e -> e.getValue() != null)
                .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));

        ConfigMap routes = configMap(objects, "paia-routes");
        assertThat(routes.getMetadata().getName()).as("a fixed name: edited in place, reloaded live").isEqualTo("paia-routes");
        for (String route : fileNames(RESOURCES.resolve("routes"))) {
            assertThat(routes.getData().get(route)).as(route)
                    .isEqualTo(Files.readString(RESOURCES.resolve("routes").resolve(route)));
        }
        assertThat(configMapData(objects, "paia-dispatcher-config", "application.yaml"))
                .isEqualTo(Files.readString(RESOURCES.resolve("application.yaml")));
        assertThat(configMapData(objects, "paia-pod-template", "pod-template.yaml"))
                .isEqualTo(Files.readString(RESOURCES.resolve("pod-template.yaml")));

        assertThat(mountPathOf(pod, configMap(objects, "paia-routes"))).isEqualTo(env.get("PAIA_ROUTES_DIR"));
        assertThat("optional:file:" + mountPathOf(pod, configMap(objects, "paia-dispatcher-config")) + "/")
                .isEqualTo(env.get("SPRING_CONFIG_ADDITIONAL_LOCATION"));
        assertThat("file:" + mountPathOf(pod, configMap(objects, "paia-pod-template")) + "/pod-template.yaml")
                .isEqualTo(env.get("PAIA_KUBERNETES_POD_TEMPLATE"));
        assertThat(env).containsEntry("SPRING_PROFILES_ACTIVE", "cluster");
        // envFrom: the env ConfigMap that exists, and the users' Secret by reference only (optional)
        var envFrom = pod.getContainers().get(0).getEnvFrom();
        assertThat(envFrom).hasSize(2);
        assertThat(envFrom.get(0).getConfigMapRef()).satisfies(ref -> configMap(objects, ref.getName()));
        assertThat(envFrom.get(1).getSecretRef().getName()).isEqualTo("paia-dispatcher-users");
        assertThat(envFrom.get(1).getSecretRef().getOptional()).isTrue();
    }

    @Test
    void productionSharesTheWorkspaceReadWriteManyAndRunsAReplicaPerPartition() throws Exception {
        List<HasMetadata> objects = render("production");
        assertThat(one(objects, PersistentVolumeClaim.class, "paia-workspace").getSpec().getAccessModes())
                .containsExactly("ReadWriteMany");
        assertThat(one(objects, Deployment.class, APP).getSpec().getReplicas()).isEqualTo(3);
        assertThat(one(objects, Deployment.class, APP).getSpec().getTemplate().getSpec().getContainers().get(0)
                .getImage()).doesNotEndWith(":latest").doesNotEndWith("-SNAPSHOT");
    }

    // ---- helpers ----

    private static final Map<String, List<HasMetadata>> RENDERED = new TreeMap<>();

    /** The overlay as {@code kubectl kustomize} (or {@code kustomize build}) renders it, parsed. */
    static synchronized List<HasMetadata> render(String overlay) throws Exception {
        if (RENDERED.containsKey(overlay)) {
            return RENDERED.get(overlay);
        }
        Optional<List<String>> command = kustomizeCommand();
        assumeTrue(command.isPresent(), "neither kubectl (with its built-in kustomize) nor kustomize is on the PATH: "
                + "the overlays cannot be rendered here; install kubectl >= 1.27 to run these checks");
        List<String> args = new ArrayList<>(command.get());
        args.add(K8S.resolve("overlays").resolve(overlay).toString());
        Process process = new ProcessBuilder(args).redirectErrorStream(false).start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
        String yaml = read(process.getInputStream());
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("%s finished", args).isTrue();
        assertThat(process.exitValue()).as("%s failed: %s", args, err.get()).isZero();

        List<HasMetadata> objects = new ArrayList<>();
        for (String document : yaml.split("(?m)^---\\s*$")) {
            if (!document.isBlank()) {
                objects.add(Serialization.unmarshal(document, HasMetadata.class));
            }
        }
        assertThat(objects).isNotEmpty();
        RENDERED.put(overlay, objects);
        return objects;
    }

    private static Optional<List<String>> kustomizeCommand() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "kubectl"))) {
                return Optional.of(List.of(Path.of(dir, "kubectl").toString(), "kustomize"));
            }
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "kustomize"))) {
                return Optional.of(List.of(Path.of(dir, "kustomize").toString(), "build"));
            }
        }
        return Optional.empty();
    }

    private static String read(InputStream in) {
        try (in; ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            in.transferTo(out);
            return out.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Paths to the fields of a parsed object that its fabric8 model does not know. */
    static List<String> unknownFields(Object value, String path) {
        List<String> unknown = new ArrayList<>();
        collectUnknownFields(value, path, unknown);
        return unknown;
    }

    private static void collectUnknownFields(Object value, String path, List<String> unknown) {
        if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                collectUnknownFields(list.get(i), path + "[" + i + "]", unknown);
            }
        } else if (value instanceof Map<?, ?> map) {
            map.forEach((key, v) -> collectUnknownFields(v, path + "." + key, unknown));
        } else if (value != null && value.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            for (Method getter : value.getClass().getMethods()) {
                if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                        || !getter.getName().startsWith("get") || getter.getName().equals("getClass")) {
                    continue;
                }
                Object field;
                try {
                    field = getter.invoke(value);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    continue; // a derived value (e.g. a Quantity's numerical amount), not a field
                }
                if (getter.getName().equals("getAdditionalProperties")) {
                    if (field instanceof Map<?, ?> extra && !extra.isEmpty()) {
                        unknown.add(path + ": " + extra.keySet());
                    }
                } else {
                    collectUnknownFields(field, path + "." + getter.getName().substring(3), unknown);
                }
            }
        }
    }

    private static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type, String name) {
        List<T> found = objects.stream().filter(type::isInstance).map(type::cast)
                .filter(o -> name.equals(o.getMetadata().getName())).toList();
        assertThat(found).as("%s %s", type.getSimpleName(), name).hasSize(1);
        return found.get(0);
    }

    /** The generated ConfigMap whose name is {@code name} plus, unless disabled, Kustomize's hash suffix. */
    private static ConfigMap configMap(List<HasMetadata> objects, String name) {
        List<ConfigMap> found = objects.stream().filter(ConfigMap.class::isInstance).map(ConfigMap.class::cast)
                .filter(c -> c.getMetadata().getName().equals(name)
                        || c.getMetadata().getName().matches(java.util.regex.Pattern.quote(name) + "-[a-z0-9]{10}"))
                .toList();
        assertThat(found).as("ConfigMap %s", name).hasSize(1);
        return found.get(0);
    }

    private static String configMapData(List<HasMetadata> objects, String name, String key) {
        String data = configMap(objects, name).getData().get(key);
        assertThat(data).as("%s in ConfigMap %s", key, name).isNotNull();
        return data;
    }

    private static String mountPathOf(PodSpec pod, ConfigMap configMap) {
        String volume = pod.getVolumes().stream().filter(v -> v.getConfigMap() != null
                        && configMap.getMetadata().getName().equals(v.getConfigMap().getName()))
                .findFirst().orElseThrow(() -> new AssertionError("no volume for " + configMap.getMetadata().getName()))
                .getName();
        return pod.getContainers().get(0).getVolumeMounts().stream().filter(m -> volume.equals(m.getName()))
                .findFirst().orElseThrow(() -> new AssertionError("volume " + volume + " not mounted")).getMountPath();
    }

    private static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> name.equals(v.getName())).findFirst().orElseThrow();
    }

    private static void assertProbe(Probe probe, String path, Set<String> portNames) {
        assertThat(probe).as("probe on " + path).isNotNull();
        assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
        assertThat(portNames).contains(probe.getHttpGet().getPort().getStrVal());
    }

    private static List<String> fileNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList();
        }
    }

    private static void assertSameContent(Path canonical, Path copy) throws IOException {
        assertThat(copy).as("%s is a copy of %s: run k8s/sync-config.sh", copy, canonical).exists();
        assertThat(Files.readString(copy)).as("%s differs from %s: run k8s/sync-config.sh", copy, canonical)
                .isEqualTo(Files.readString(canonical));
    }
}
