package org.paia.dispatcher.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.config.ClientsConfiguration;
import org.paia.dispatcher.local.LocalServers;
import org.paia.dispatcher.local.NodeClient;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.schedule.Leadership;
import org.paia.dispatcher.support.DispatcherIT;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RBAC proven by the code: every Kubernetes API request the dispatcher made in this test JVM (this
 * test's games and those of every IT that ran before it in the shared context) is allowed by the
 * Role in {@code k8s/base}, and the Role grants nothing the dispatcher never asked for. The
 * dispatcher's requests are told from the simulated node's and the tests' by their User-Agent.
 */
class RbacIT extends DispatcherIT {

    private static final Logger LOG = LoggerFactory.getLogger(RbacIT.class);
    private static final Path BASE = Path.of("k8s/base");
    private static final Set<String> KNOWN_AGENTS =
            Set.of(ClientsConfiguration.KUBERNETES_USER_AGENT, NodeClient.USER_AGENT, TEST_USER_AGENT);

    @Test
    void everyApiCallOfTheDispatcherIsAllowedByItsRoleAndTheRoleGrantsNothingElse() throws Exception {
        KubernetesClient kubernetes = testKubernetes();
        String renewedBefore = leaseRenewTime(kubernetes);

        // a full game, a game that crashes, a pod whose image cannot be pulled (no game.log: its
        // container log is asked for), a pod deleted mid-game and one removed by force (both lost:
        // released and retried)
        String ok = newRoom();
        String crash = newRoom();
        String noImage = newRoom();
        String deleted = newRoom();
        String forced = newRoom();
        publishWithProgram(ok, "kart_3d/code-" + ok, "kart3d_ppo_test");
        publishWithProgram(crash, "kart_3d/crash-" + crash, "kart3d_crash");
        publishWithProgram(noImage, "kart_3d/noimage-" + noImage, "kart3d_noimage");
        publishLongGame(deleted);
        publishLongGame(forced);
        String deletedPod = PodNames.podName(deleted, 0, 0);
        String forcedPod = PodNames.podName(forced, 0, 0);
        awaitRunning(kubernetes, deletedPod);
        awaitRunning(kubernetes, forcedPod);
        kubernetes.pods().withName(deletedPod).delete();
        kubernetes.pods().withName(forcedPod)
                .edit(p -> new PodBuilder(p).editMetadata().withFinalizers(List.of()).endMetadata().build());
        kubernetes.pods().withName(forcedPod).withGracePeriod(0).delete();

        assertThat(awaitResult(ok).path("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(awaitResult(crash).path("outcome").asText()).isEqualTo("FAILED");
        assertThat(awaitResult(noImage).path("error").asText()).contains("ErrImagePull");
        for (String room : List.of(deleted, forced)) {
            JsonNode result = awaitResult(room);
            assertThat(result.path("outcome").asText()).isEqualTo("SUCCEEDED");
            assertThat(result.path("status").asText()).contains(PodNames.podName(room, 0, 1));
        }
        // leader election: the scheduler's lease was renewed during the test
        await().atMost(Duration.ofSeconds(30)).until(() -> !Objects.equals(leaseRenewTime(kubernetes), renewedBefore));

        List<RecordedRequest> recorded = drainRecordedRequests();
        Set<String> agents = recorded.stream().map(RbacIT::userAgent).collect(Collectors.toCollection(TreeSet::new));
        assertThat(agents).as("User-Agents seen by the API server: a request from any other client would escape "
                + "this check").isSubsetOf(KNOWN_AGENTS).contains(ClientsConfiguration.KUBERNETES_USER_AGENT);

        Set<ApiCall> calls = new TreeSet<>();
        Map<String, Integer> counts = new TreeMap<>();
        for (RecordedRequest request : recorded) {
            if (ClientsConfiguration.KUBERNETES_USER_AGENT.equals(userAgent(request))) {
                ApiCall call = ApiCall.of(request.getMethod(), request.getPath());
                calls.add(call);
                counts.merge(call.permission(), 1, Integer::sum);
            }
        }
        Role role = baseRole();
        String namespace = baseNamespace();
        LOG.info("Kubernetes API calls of the dispatcher (verb group/resource, count):\n{}",
                counts.entrySet().stream().map(e -> "  " + e.getKey() + " x" + e.getValue())
                        .collect(Collectors.joining("\n")));

        Set<String> used = calls.stream().map(ApiCall::permission).collect(Collectors.toCollection(TreeSet::new));
        assertThat(calls.stream().filter(c -> !c.allowedBy(role, namespace)).map(ApiCall::toString))
                .as("dispatcher calls the Role in k8s/base/role.yaml does not allow").isEmpty();
        assertThat(granted(role)).as("the Role grants exactly the permissions the dispatcher used")
                .containsExactlyInAnyOrderElementsOf(used);
        // the calls the tests were written to exercise (a sanity check of the recording itself)
        assertThat(used).contains("create /pods", "watch /pods", "list /pods", "get /pods", "patch /pods",
                "delete /pods", "get /pods/log");
    }

    private void publishLongGame(String room) throws Exception {
        uploadProgram("user-102", "kart_3d/code-" + room, "class MLPlay: pass\n");
        publish(room, seedTask(room, "user-102/kart_3d/code-" + room, "kart3d_ppo_test")
                .replace("\"user_num\": 1", "\"user_num\": 1, \"sim_duration_ms\": 4000"));
    }

    private static void awaitRunning(KubernetesClient kubernetes, String pod) {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            var p = kubernetes.pods().withName(pod).get();
            return p != null && p.getStatus() != null && "Running".equals(p.getStatus().getPhase());
        });
    }

    private String leaseRenewTime(KubernetesClient kubernetes) {
        // Camel names the Lease <lease-name>-<cluster view>
        String name = properties.getKubernetes().getLeaderElection().getLeaseName() + "-" + Leadership.NAMESPACE;
        Lease lease = kubernetes.leases().withName(name).get();
        return lease == null || lease.getSpec() == null ? null : String.valueOf(lease.getSpec().getRenewTime());
    }

    /** Every request the API test server received since it started (or since the last drain). */
    private static List<RecordedRequest> drainRecordedRequests() throws InterruptedException {
        List<RecordedRequest> all = new ArrayList<>();
        for (RecordedRequest r; (r = LocalServers.kubernetesServer().takeRequest(1, TimeUnit.MILLISECONDS)) != null; ) {
            all.add(r);
        }
        return all;
    }

    private static String userAgent(RecordedRequest request) {
        String agent = request.getHeader("User-Agent");
        return agent == null ? "(none)" : agent;
    }

    static Role baseRole() throws IOException {
        try (InputStream in = Files.newInputStream(BASE.resolve("role.yaml"))) {
            return Serialization.unmarshal(in, Role.class);
        }
    }

    @SuppressWarnings("unchecked")
    static String baseNamespace() throws IOException {
        try (InputStream in = Files.newInputStream(BASE.resolve("kustomization.yaml"))) {
            return (String) Serialization.unmarshal(in, Map.class).get("namespace");
        }
    }

    /** Every "verb group/resource" the Role grants (no wildcards allowed: they would grant unknown things). */
    static Set<String> granted(Role role) {
        Set<String> granted = new TreeSet<>();
        for (PolicyRule rule : role.getRules()) {
            assertThat(rule.getApiGroups()).as("apiGroups of %s", rule).doesNotContain("*");
            assertThat(rule.getResources()).as("resources of %s", rule).doesNotContain("*");
            assertThat(rule.getVerbs()).as("verbs of %s", rule).doesNotContain("*");
            assertThat(rule.getNonResourceURLs()).as("a Role cannot grant non-resource URLs").isNullOrEmpty();
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    for (String verb : rule.getVerbs()) {
                        granted.add(verb + " " + group + "/" + resource);
                    }
                }
            }
        }
        return granted;
    }
}
