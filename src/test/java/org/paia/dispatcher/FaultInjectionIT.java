package org.paia.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.local.LocalServers;
import org.paia.dispatcher.support.DispatcherIT;
import org.springframework.beans.factory.annotation.Autowired;

/** Retriable faults injected into the real servers: each task still ends in one correct result. */
class FaultInjectionIT extends DispatcherIT {

    @Autowired
    MeterRegistry metrics;
    @Autowired
    org.paia.dispatcher.failures.DispatcherHealthChecks.Storage storageHealth;

    private double retries(String route) {
        return metrics.find("paia.retries").tag("route", route).counters().stream().mapToDouble(Counter::count).sum();
    }

    // The Kubernetes API answers pod creation with 500, 500, then 429: the launch is redelivered with
    // backoff, then claimed again on a later tick, and the game runs once.
    @Test
    void kubernetesApiErrorsAndThrottlingAreRetried() throws Exception {
        double before = retries("instance-launch");
        var api = LocalServers.kubernetesServer().expect().post().withPath("/api/v1/namespaces/paia/pods");
        api.andReturn(500, new StatusBuilder().withCode(500).withMessage("etcdserver: request timed out").build()).times(2);
        LocalServers.kubernetesServer().expect().post().withPath("/api/v1/namespaces/paia/pods")
                .andReturn(429, new StatusBuilder().withCode(429).withMessage("too many requests").build()).once();
        String room = newRoom();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");

        assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(resultsOf(room)).hasSize(1);
        assertThat(retries("instance-launch") - before).isGreaterThanOrEqualTo(2);
    }

    // Azurite is stopped while the task is being launched and started again (same port, same data):
    // downloads fail with connection refused, are redelivered and claimed again until storage is back;
    // readiness reports storage DOWN meanwhile.
    @Test
    void storageOutageDuringTheLaunchIsRetriedUntilStorageIsBack() throws Exception {
        String room = newRoom();
        uploadProgram("user-102", "kart_3d/code-" + room, "class MLPlay: pass\n");
        double before = retries("instance-launch");
        LocalServers.azurite().pause();
        try {
            publish(room, seedTask(room, "user-102/kart_3d/code-" + room, "kart3d_ppo_test"));
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> retries("instance-launch") - before >= 2);
            assertThat(storageHealth.health().getStatus()).isEqualTo(org.springframework.boot.actuate.health.Status.DOWN);
            assertThat(resultsOf(room)).isEmpty();
        } finally {
            LocalServers.azurite().resume();
        }

        assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(resultsOf(room)).hasSize(1);
        assertThat(storageHealth.health().getStatus()).isEqualTo(org.springframework.boot.actuate.health.Status.UP);
    }
}
