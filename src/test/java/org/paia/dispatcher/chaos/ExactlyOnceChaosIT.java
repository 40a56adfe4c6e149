package org.paia.dispatcher.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.support.PrometheusScrape;
import org.paia.dispatcher.support.ResultCollector;

/**
 * SPEC §3 "exactly once", proven by breaking things for real: the dispatcher runs as separate JVMs
 * (the built jar) against a Kafka broker process, Azurite, the Kubernetes API server and the
 * simulated node, and is killed with SIGKILL, replaced by a standby, or loses its broker mid-run.
 * After each: one result per task, never zero, never two; never two live pods for one instance;
 * no game pod left.
 */
class ExactlyOnceChaosIT {

    private static final Duration ALL_RESULTS = Duration.ofMinutes(4);

    // 200 tasks arrive in 20 waves; after each wave the dispatcher is started and killed -9 at a
    // random moment (seeded: the same moments on every run), wherever it is — intake, download, pod
    // creation, upload, publishing. A last dispatcher then finishes the work.
    @Test
    void twoHundredTasksSurviveTwentyKillNines() throws Exception {
        try (ChaosCluster cluster = new ChaosCluster("kill9")) {
            cluster.registerReplica("replica-a");
            Random random = new Random(20261123);
            List<String> rooms = new ArrayList<>();
            Map<String, Integer> killedDuring = new TreeMap<>();
            for (int kill = 1; kill <= 20; kill++) {
                rooms.addAll(cluster.publishTasks(10));
                DispatcherProcess dispatcher = DispatcherProcess.start(cluster, "replica-a", kill).awaitStarted();
                // The random moment of the kill (not a wait for a condition): from right after start-up, before
                // the scheduler's lease takes effect, to well into launching, finishing and publishing.
                Thread.sleep(500 + random.nextInt(9500));
                killedDuring.merge(dispatcher.kill(), 1, Integer::sum);
            }
            System.out.println("[chaos] kill -9 moments by last logged stage: " + killedDuring);

            DispatcherProcess last = DispatcherProcess.start(cluster, "replica-a", 21).awaitStarted();
            try (ResultCollector results = cluster.collectResults()) {
                assertExactlyOnce(cluster, results, rooms);
            } finally {
                last.stop();
            }
        }
    }

    // Two replicas; the one holding the scheduler Lease is killed -9 mid-run and the standby takes over.
    @Test
    void standbyTakesOverWhenTheLeaderIsKilled() throws Exception {
        try (ChaosCluster cluster = new ChaosCluster("takeover")) {
            cluster.registerReplica("replica-a");
            cluster.registerReplica("replica-b");
            DispatcherProcess a = DispatcherProcess.start(cluster, "replica-a", 1);
            DispatcherProcess b = DispatcherProcess.start(cluster, "replica-b", 1);
            List<String> rooms = new ArrayList<>();
            try (ResultCollector results = cluster.collectResults()) {
                a.awaitStarted();
                b.awaitStarted();
                rooms.addAll(cluster.publishTasks(60));
                await().atMost(Duration.ofSeconds(60)).until(() -> cluster.leader() != null
                        && results.all().size() >= 10);
                String leader = cluster.leader();
                DispatcherProcess victim = leader.equals("replica-a") ? a : b;
                DispatcherProcess standby = victim == a ? b : a;
                Instant killed = Instant.now();
                System.out.println("[chaos] killing leader " + leader + " during: " + victim.kill()
                        + " with " + results.all().size() + " results published");
                cluster.markReplicaDown(leader);

                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                        .until(() -> standby.logContains("is now the scheduler"));
                Duration takeover = Duration.between(killed, Instant.now());
                System.out.println("[chaos] takeover by " + standby.replicaId() + " after " + takeover.toMillis() + " ms");
                assertThat(standby.replicaId()).isEqualTo(cluster.leader());

                assertExactlyOnce(cluster, results, rooms);
            } finally {
                a.stop();
                b.stop();
            }
        }
    }

    // The Kafka broker is stopped mid-run and started again on the same port and log directory.
    @Test
    void brokerRestartMidRunLosesAndDuplicatesNothing() throws Exception {
        try (ChaosCluster cluster = new ChaosCluster("broker-restart")) {
            cluster.registerReplica("replica-a");
            DispatcherProcess dispatcher = DispatcherProcess.start(cluster, "replica-a", 1).awaitStarted();
            List<String> rooms = new ArrayList<>();
            try (ResultCollector results = cluster.collectResults()) {
                rooms.addAll(cluster.publishTasks(60));
                await().atMost(Duration.ofSeconds(60)).until(() -> results.all().size() >= 10);
                PrometheusScrape before = dispatcher.scrape();

                brokerDownForFiveSeconds(cluster, results);
                rooms.addAll(cluster.publishTasks(20));

                assertThat(dispatcher.isAlive()).isTrue();
                assertExactlyOnce(cluster, results, rooms);
                // Reported, not asserted: whether a write outlives the client's max.block.ms depends on timing.
                PrometheusScrape after = dispatcher.scrape();
                System.out.println("[chaos] counters moved by the outage (default client settings):\n"
                        + moved(before, after));
            } finally {
                dispatcher.stop();
            }
        }
    }

    // The same outage with the dispatcher's Kafka clients giving up a blocked call after 1 s
    // (max.block.ms; the default 15 s hides most of a short outage inside one call): writes time out
    // during the outage; commits are repeated by the writer, other calls abort the transaction for the
    // caller to repeat (route redeliveries in paia_retries_total, when they happen, are reported, not
    // asserted: that depends on which call the outage hits). The retries show in /actuator/prometheus
    // as paia_transaction_retries_total, and each task still ends in one correct result.
    // Games last 2 s, so that games are running and ending throughout the outage (with the node's
    // 0.4 s games, a loaded machine could finish all the work before the broker was down, and the
    // outage would then cost no retry at all).
    @Test
    void brokerOutageIsRetriedAndTheRetriesShowInMetrics() throws Exception {
        try (ChaosCluster cluster = new ChaosCluster("broker-outage")) {
            cluster.registerReplica("replica-a");
            DispatcherProcess dispatcher = DispatcherProcess.start(cluster, "replica-a", 1,
                    "--paia.kafka.client-properties.max.block.ms=1000").awaitStarted();
            List<String> rooms = new ArrayList<>();
            try (ResultCollector results = cluster.collectResults()) {
                rooms.addAll(cluster.publishTasks(40, 2000L));
                await().atMost(Duration.ofSeconds(90)).until(() -> results.all().size() >= 5);
                PrometheusScrape before = dispatcher.scrape();

                int published = brokerDownForFiveSeconds(cluster, results);
                rooms.addAll(cluster.publishTasks(10));

                assertThat(dispatcher.isAlive()).isTrue();
                assertExactlyOnce(cluster, results, rooms);
                PrometheusScrape after = dispatcher.scrape();
                String moved = moved(before, after);
                System.out.println("[chaos] retries during the outage:\n" + moved);
                assertThat(published).as("results published before the outage: work was left for it").isLessThan(40);
                assertThat(after.value("paia_transaction_retries_total", "writer", "scheduler")
                        - before.value("paia_transaction_retries_total", "writer", "scheduler"))
                        .as("scheduler transactions retried (any class); counters that moved:%n%s", moved).isPositive();
                assertThat(after.value("paia_retries_total", "class", "FATAL")).isZero();
                assertThat(dispatcher.get("/actuator/health/liveness")).contains("\"UP\"");
            } finally {
                dispatcher.stop();
            }
        }
    }

    /** Stops the broker, keeps it down for 5 s, starts it again; returns the results published when it stopped. */
    private static int brokerDownForFiveSeconds(ChaosCluster cluster, ResultCollector results) throws Exception {
        cluster.kafka().stop();
        int published = results.all().size();
        System.out.println("[chaos] broker stopped with " + published + " results published");
        Thread.sleep(5000); // the outage itself: a duration, not a condition to await
        cluster.kafka().start();
        return published;
    }

    /** The dispatcher's own counters and Camel's failed exchanges that moved between two scrapes. */
    private static String moved(PrometheusScrape before, PrometheusScrape after) {
        return delta(before, after, "paia_") + delta(before, after, "camel_exchanges_fail");
    }

    /** Each counter starting with {@code prefix} that moved between two scrapes, with how much. */
    private static String delta(PrometheusScrape before, PrometheusScrape after, String prefix) {
        StringBuilder out = new StringBuilder();
        for (PrometheusScrape.Sample s : after.samplesStartingWith(prefix)) {
            String[] labels = s.labels().entrySet().stream().flatMap(e -> java.util.stream.Stream.of(e.getKey(), e.getValue()))
                    .toArray(String[]::new);
            double moved = s.value() - before.value(s.name(), labels);
            if (moved != 0) {
                out.append("  ").append(s.name()).append(s.labels()).append(" +").append(moved).append('\n');
            }
        }
        return out.toString();
    }

    private static void assertExactlyOnce(ChaosCluster cluster, ResultCollector results, List<String> rooms) {
        await().atMost(ALL_RESULTS).pollInterval(Duration.ofMillis(500))
                .until(() -> rooms.stream().allMatch(room -> !results.records(room).isEmpty()));
        // a late duplicate would arrive within a couple of scheduling/relist rounds
        await().pollDelay(Duration.ofSeconds(5)).until(() -> true);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> cluster.gamePods().isEmpty());

        Map<String, Long> perRoom = results.all().stream()
                .collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting()));
        List<String> duplicated = perRoom.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
        System.out.println("[chaos] results expected " + rooms.size() + ", received " + results.all().size()
                + ", rooms with more than one: " + duplicated.size());
        assertThat(duplicated).as("rooms with more than one result").isEmpty();
        assertThat(perRoom.keySet()).containsExactlyInAnyOrderElementsOf(rooms);
        assertThat(results.all()).hasSize(rooms.size());
        assertThat(results.json(rooms.get(0)).get(0).path("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(rooms.stream().filter(r -> !"SUCCEEDED".equals(results.json(r).get(0).path("outcome").asText())))
                .as("rooms whose game did not succeed").isEmpty();
        assertThat(cluster.violations()).as("instances with two live pods").isEmpty();
        assertThat(cluster.gamePods()).as("game pods left").isEmpty();
    }
}
