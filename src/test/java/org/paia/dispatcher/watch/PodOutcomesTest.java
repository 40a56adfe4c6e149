package org.paia.dispatcher.watch;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.ledger.Outcome;

class PodOutcomesTest {

    private static PodBuilder pod(String phase) {
        return new PodBuilder().withNewMetadata().withName("p").endMetadata()
                .withNewStatus().withPhase(phase).withStartTime("2026-11-23T10:00:00Z").endStatus();
    }

    private static Pod terminated(String phase, int exitCode, String reason) {
        return pod(phase).editStatus().addNewContainerStatus().withName("game").withNewState().withNewTerminated()
                .withExitCode(exitCode).withReason(reason).withFinishedAt("2026-11-23T10:05:00Z").endTerminated()
                .endState().endContainerStatus().endStatus().build();
    }

    @Test
    void pendingRunningAndMissingStatusAreNotEnded() {
        assertThat(PodOutcomes.ended(pod("Pending").build())).isEmpty();
        assertThat(PodOutcomes.ended(pod("Running").build())).isEmpty();
        assertThat(PodOutcomes.ended(pod("Unknown").build())).isEmpty();
        assertThat(PodOutcomes.ended(new PodBuilder().withNewMetadata().withName("p").endMetadata().build())).isEmpty();
    }

    @Test
    void succeededCarriesItsTimes() {
        PodOutcomes.Ended ended = PodOutcomes.ended(terminated("Succeeded", 0, "Completed")).orElseThrow();

        assertThat(ended.outcome()).isEqualTo(Outcome.SUCCEEDED);
        assertThat(ended.reason()).isNull();
        assertThat(ended.startedAt()).hasToString("2026-11-23T10:00:00Z");
        assertThat(ended.finishedAt()).hasToString("2026-11-23T10:05:00Z");
    }

    @Test
    void failedSaysHowTheGameExited() {
        assertThat(PodOutcomes.ended(terminated("Failed", 137, "OOMKilled")).orElseThrow().reason())
                .isEqualTo("game exited with code 137 (OOMKilled)");
        assertThat(PodOutcomes.ended(pod("Failed").editStatus().withReason("UnexpectedAdmissionError")
                .withMessage("device plugin gone").endStatus().build()).orElseThrow().reason())
                .isEqualTo("pod failed: UnexpectedAdmissionError - device plugin gone");
    }

    @Test
    void evictionAndDisruptionArePlatformFailuresNotTheGames() {
        PodOutcomes.Ended evicted = PodOutcomes.ended(pod("Failed").editStatus().withReason("Evicted")
                .withMessage("node low on memory").endStatus().build()).orElseThrow();
        assertThat(evicted.platform()).isTrue();
        assertThat(evicted.reason()).isEqualTo("pod disrupted by the platform: Evicted");

        Pod disrupted = terminated("Failed", 143, "Error").toBuilder().editStatus().addNewCondition()
                .withType("DisruptionTarget").withStatus("True").withReason("TerminationByKubelet").endCondition()
                .endStatus().build();
        assertThat(PodOutcomes.ended(disrupted).orElseThrow().platform()).isTrue();
        assertThat(PodOutcomes.ended(terminated("Failed", 1, "Error")).orElseThrow().platform()).isFalse();
    }

    @Test
    void deadlineExceededIsTimedOut() {
        Pod pod = pod("Failed").editStatus().withReason("DeadlineExceeded").endStatus().build();

        assertThat(PodOutcomes.ended(pod).orElseThrow().outcome()).isEqualTo(Outcome.TIMED_OUT);
    }

    @Test
    void unparseableTimesAreIgnoredNotFatal() {
        Pod pod = pod("Succeeded").editStatus().withStartTime("yesterday").endStatus().build();

        assertThat(PodOutcomes.ended(pod).orElseThrow().startedAt()).isNull();
    }
}
