package org.paia.dispatcher.routes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.pods.PodNames;

/**
 * {@code watch.yaml}: pod-watch and pod-relist (listPodsByLabels) feed pod-event with the pod and where it
 * was seen (a variable, not a made-up header); pod-release removes the finalizer and deletes the pod.
 */
class WatchRouteTest extends RouteTestSupport {

    @BeforeEach
    void adviseRoutes() throws Exception {
        advise("pod-event", a -> a.weaveById("judge-pod").before().to("mock:pod-events"));
    }

    private List<Exchange> eventsOf(String pod) {
        return mock("pod-events").getExchanges().stream()
                .filter(e -> pod.equals(e.getMessage().getBody(Pod.class).getMetadata().getName())).toList();
    }

    @Test
    void aGamePodIsSeenByTheLaunchTheWatchAndTheRelistEachNamedInAVariable() throws Exception {
        String room = newRoom();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");
        String pod = PodNames.podName(room, 0, 0);
        // a listing while the game runs (the relist tick would too, every 2 s)
        await().atMost(Duration.ofSeconds(30)).until(() -> !eventsOf(pod).isEmpty());
        template.sendBody("direct:relistPods", null);
        assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");

        Set<String> actions = eventsOf(pod).stream().map(e -> e.getVariable("podAction", String.class))
                .collect(Collectors.toSet());
        assertThat(actions).contains("LAUNCHED", "MODIFIED");
        assertThat(eventsOf(pod)).allSatisfy(e -> assertThat(e.getMessage().getHeader("CamelKubernetesEventAction"))
                .as("the watch's own header only").isNotIn("LAUNCHED", "RELISTED"));
    }

    @Test
    void aRelistReleasesAGamePodThatBelongsToNoRunFinalizerAndAll() {
        String name = "paiagym-stray-" + newRoom().substring(0, 8);
        testKubernetes().pods().inNamespace(properties.getKubernetes().getNamespace()).resource(new PodBuilder()
                .withNewMetadata().withName(name).addToLabels(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY)
                .addToFinalizers(PodNames.FINALIZER).endMetadata()
                .withNewSpec().addNewContainer().withName("game").withImage("paiagym").endContainer().endSpec()
                .build()).create();
        // (the relist tick may get there first)
        template.sendBody("direct:relistPods", null);

        await().atMost(Duration.ofSeconds(30)).until(() -> testKubernetes().pods()
                .inNamespace(properties.getKubernetes().getNamespace()).withName(name).get() == null);
    }
}
