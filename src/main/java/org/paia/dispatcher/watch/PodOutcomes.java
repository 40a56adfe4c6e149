package org.paia.dispatcher.watch;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import org.paia.dispatcher.ledger.Outcome;
import org.paia.dispatcher.pods.PodRenderer;

/**
 * Reads a game pod's status: whether it has ended and how. Pure; pod states come from the API and
 * are validated like any other input (missing fields mean "not ended yet").
 */
public final class PodOutcomes {

    private PodOutcomes() {
    }

    /** The outcome of a pod in a terminal phase, or empty while it is pending or running. */
    public static Optional<Ended> ended(Pod pod) {
        PodStatus status = pod.getStatus();
        if (status == null || status.getPhase() == null) {
            return Optional.empty();
        }
        String phase = status.getPhase();
        Instant finished = terminated(pod).map(t -> instant(t.getFinishedAt())).orElse(null);
        Instant started = instant(status.getStartTime());
        if ("Succeeded".equals(phase)) {
            return Optional.of(new Ended(Outcome.SUCCEEDED, null, started, finished, false));
        }
        if (!"Failed".equals(phase)) {
            return Optional.empty();
        }
        if ("DeadlineExceeded".equals(status.getReason())) {
            return Optional.of(new Ended(Outcome.TIMED_OUT, "game exceeded its deadline (activeDeadlineSeconds)",
                    started, finished, false));
        }
        if (isDisrupted(status)) {
            return Optional.of(new Ended(Outcome.FAILED, "pod disrupted by the platform: "
                    + (status.getReason() == null ? "DisruptionTarget" : status.getReason()), started, finished, true));
        }
        String reason = terminated(pod)
                .map(t -> "game exited with code " + t.getExitCode()
                        + (t.getReason() == null ? "" : " (" + t.getReason() + ")"))
                .orElseGet(() -> "pod failed" + (status.getReason() == null ? "" : ": " + status.getReason())
                        + (status.getMessage() == null ? "" : " - " + status.getMessage()));
        return Optional.of(new Ended(Outcome.FAILED, reason, started, finished, false));
    }

    /**
     * Why a pod that is not running yet will not start by itself — an image that cannot be pulled, a
     * pod no node can take — or empty when it may still start.
     */
    public static Optional<String> stuck(Pod pod) {
        PodStatus status = pod.getStatus();
        if (status == null || (status.getPhase() != null && !"Pending".equals(status.getPhase()))) {
            return Optional.empty();
        }
        if (status.getContainerStatuses() != null) {
            for (ContainerStatus c : status.getContainerStatuses()) {
                if (c.getState() != null && c.getState().getWaiting() != null
                        && STUCK_WAITING.contains(c.getState().getWaiting().getReason())) {
                    String message = c.getState().getWaiting().getMessage();
                    return Optional.of("image cannot be started: " + c.getState().getWaiting().getReason()
                            + (message == null ? "" : " - " + message));
                }
            }
        }
        if (status.getConditions() != null) {
            return status.getConditions().stream()
                    .filter(c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus())
                            && "Unschedulable".equals(c.getReason()))
                    .map(c -> "unschedulable: " + (c.getMessage() == null ? "no node can run it" : c.getMessage()))
                    .findFirst();
        }
        return Optional.empty();
    }

    private static final java.util.Set<String> STUCK_WAITING = java.util.Set.of(
            "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError",
            "CreateContainerError");

    /** Eviction, node loss or shutdown, preemption: the platform's fault, not the game's. */
    static boolean isDisrupted(PodStatus status) {
        if (status.getReason() != null && PLATFORM_REASONS.contains(status.getReason())) {
            return true;
        }
        return status.getConditions() != null && status.getConditions().stream()
                .anyMatch(c -> "DisruptionTarget".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static final java.util.Set<String> PLATFORM_REASONS =
            java.util.Set.of("Evicted", "NodeLost", "Shutdown", "NodeShutdown", "Terminated", "Preempting");

    private static Optional<ContainerStateTerminated> terminated(Pod pod) {
        if (pod.getStatus().getContainerStatuses() == null) {
            return Optional.empty();
        }
        return pod.getStatus().getContainerStatuses().stream()
                .filter(c -> PodRenderer.GAME_CONTAINER.equals(c.getName()))
                .map(ContainerStatus::getState)
                .filter(s -> s != null && s.getTerminated() != null)
                .map(s -> s.getTerminated())
                .findFirst();
    }

    private static Instant instant(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /**
     * How and when a pod ended.
     *
     * @param platform the platform ended it (eviction, node loss): the instance is retried, not failed
     */
    public record Ended(Outcome outcome, String reason, Instant startedAt, Instant finishedAt, boolean platform) {
    }
}
