package org.paia.dispatcher.routes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobContainerClient;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.camel.CamelExecutionException;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.download.ProgramNotFoundException;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.pods.PodRenderer;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.task.GameTask;
import org.paia.dispatcher.task.TaskParser;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * {@code launch.yaml}: program-fetch (listBlobs → plan → downloadBlobToFile into a staging folder → install),
 * reached through instance-launch's enrich; the pod created with the template's finalizer and annotations.
 */
class LaunchRouteTest extends RouteTestSupport {

    /** The pod as the API server had it when the launch marked it created, by pod name. */
    private static final Map<String, Pod> CREATED = new ConcurrentHashMap<>();
    /** Launches held just before create-pod (by room), and the pod each was about to create. */
    private static final Map<String, CountDownLatch> HOLD = new ConcurrentHashMap<>();
    private static final Map<String, Pod> HELD = new ConcurrentHashMap<>();

    @Autowired
    TaskParser parser;
    @Autowired
    Workspace workspace;

    @BeforeEach
    void adviseRoutes() throws Exception {
        advise("program-fetch", a -> a.weaveById("download-blob").after().to("mock:downloaded"));
        advise("instance-launch", a -> {
            a.weaveById("mark-created").before().process(this::capturePod);
            a.weaveById("create-pod").before().process(LaunchRouteTest::holdBeforeCreate);
        });
    }

    private void capturePod(Exchange exchange) {
        GameRun run = exchange.getVariable("run", GameRun.class);
        Pod pod = testKubernetes().pods().inNamespace(properties.getKubernetes().getNamespace()).withName(run.podName()).get();
        if (pod != null) {
            CREATED.put(run.podName(), pod);
        }
    }

    private static void holdBeforeCreate(Exchange exchange) throws InterruptedException {
        GameRun run = exchange.getVariable("run", GameRun.class);
        CountDownLatch hold = HOLD.get(run.roomId());
        if (hold != null) {
            HELD.put(run.roomId(), exchange.getMessage().getBody(Pod.class));
            assertThat(hold.await(60, TimeUnit.SECONDS)).isTrue();
        }
    }

    private GameTask task(String room, String programPath) throws Exception {
        return parser.parse(seedTask(room, programPath, "kart3d_ppo_test").getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aProgramFolderIsStreamedThroughAStagingFolderIntoTheWorkspaceOncePerRoom() throws Exception {
        String room = newRoom();
        BlobContainerClient container = blobs.getBlobContainerClient("user-102");
        container.createIfNotExists();
        container.getBlobClient("fetch-" + room + "/ml_play.py").upload(BinaryData.fromString("class MLPlay: pass\n"), true);
        container.getBlobClient("fetch-" + room + "/lib/helper.py").upload(BinaryData.fromString("X = 1\n"), true);
        // a sibling sharing the prefix is not part of the program
        container.getBlobClient("fetch-" + room + "0/ml_play.py").upload(BinaryData.fromString("other\n"), true);
        GameTask task = task(room, "user-102/fetch-" + room);

        List<Object> entries = template.requestBody("direct:fetchPrograms", task, List.class);

        Path dir = workspace.programDir(room, "kart3d_ppo_test");
        assertThat(entries).containsExactly((Object) dir.resolve("ml_play.py"));
        assertThat(Files.readString(dir.resolve("ml_play.py"))).isEqualTo("class MLPlay: pass\n");
        assertThat(Files.readString(dir.resolve("lib/helper.py"))).isEqualTo("X = 1\n");
        assertThat(mock("downloaded").getExchanges().stream()
                .map(e -> e.getMessage().getHeader("CamelAzureStorageBlobBlobName", String.class))
                .filter(name -> name.startsWith("fetch-" + room + "/")))
                .containsExactlyInAnyOrder("fetch-" + room + "/ml_play.py", "fetch-" + room + "/lib/helper.py");
        try (Stream<Path> siblings = Files.list(dir.getParent())) {
            assertThat(siblings.map(p -> p.getFileName().toString())).as("no staging folder left")
                    .containsExactly("kart3d_ppo_test");
        }

        int downloads = mock("downloaded").getReceivedCounter();
        assertThat(template.requestBody("direct:fetchPrograms", task, List.class)).isEqualTo(entries);
        assertThat(mock("downloaded").getReceivedCounter()).as("fetched once per room").isEqualTo(downloads);
    }

    @Test
    void aProgramThatIsNotThereIsAUserErrorNotARetry() throws Exception {
        GameTask task = task(newRoom(), "user-102/nothing-here-" + newRoom());

        assertThatThrownBy(() -> template.requestBody("direct:fetchPrograms", task, List.class))
                .isInstanceOf(CamelExecutionException.class).hasRootCauseInstanceOf(ProgramNotFoundException.class)
                .rootCause().hasMessageContaining("not found");
    }

    /**
     * Found by the takeover chaos test under load: a launch takes seconds, and meanwhile a pod of its run (a
     * predecessor's) was seen, ended, was finished and deleted; the launch then created it again and the
     * game ran twice.
     */
    @Test
    void aPodSeenEndedAndFinishedWhileItsLaunchIsOnItsWayIsNeverCreatedAgain() throws Exception {
        String room = newRoom();
        String podName = PodNames.podName(room, 0, 0);
        String namespace = properties.getKubernetes().getNamespace();
        HOLD.put(room, new CountDownLatch(1));
        try {
            publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");
            await().atMost(Duration.ofSeconds(30)).until(() -> HELD.containsKey(room));

            // the pod appears as a previous scheduler would have left it, its game over
            Pod ended = new PodBuilder(HELD.get(room)).withNewStatus().withPhase("Succeeded")
                    .addNewContainerStatus().withName(PodRenderer.GAME_CONTAINER).withNewState().withNewTerminated()
                    .withExitCode(0).withReason("Completed").endTerminated().endState().endContainerStatus()
                    .endStatus().build();
            testKubernetes().pods().inNamespace(namespace).resource(ended).create();
            assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> testKubernetes().pods().inNamespace(namespace).withName(podName).get() == null);
        } finally {
            HOLD.remove(room).countDown();
        }

        // the launch goes on, and creates nothing
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3))
                .until(() -> testKubernetes().pods().inNamespace(namespace).withName(podName).get() == null);
        assertThat(CREATED).doesNotContainKey(podName);
        assertThat(resultsOf(room)).hasSize(1);
    }

    @Test
    void theGamePodIsCreatedWithTheTemplatesFinalizerAndAnnotations() throws Exception {
        String room = newRoom();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");
        String podName = PodNames.podName(room, 0, 0);

        await().atMost(Duration.ofSeconds(30)).until(() -> CREATED.containsKey(podName));
        Pod pod = CREATED.get(podName);
        assertThat(pod.getMetadata().getFinalizers()).contains(PodNames.FINALIZER);
        assertThat(pod.getMetadata().getAnnotations()).containsEntry(PodNames.ROOM_ANNOTATION, room);
        assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");
    }
}
