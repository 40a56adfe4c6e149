package org.paia.dispatcher.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.paia.dispatcher.support.DispatcherIT;
import org.paia.dispatcher.support.PrometheusScrape;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The dispatcher's own metrics after real work — a game that succeeds, a task that is rejected, a
 * task whose program does not exist — scraped from {@code /actuator/prometheus} over HTTP; and the
 * Grafana dashboard in {@code k8s/grafana}, whose every PromQL metric must exist in that scrape.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetricsIT extends DispatcherIT {

    static final Path DASHBOARD = Path.of("k8s/grafana/paia-dispatcher.json");
    private static final Pattern METRIC = Pattern.compile("\\b((?:paia|camel)_[a-z0-9_]+)\\b");

    @LocalServerPort
    int port;

    @Test
    @Order(1)
    void ownMetricsCountARealRunARejectionAndAFailure() throws Exception {
        PrometheusScrape before = PrometheusScrape.of(port);

        String good = newRoom();
        publishWithProgram(good, "kart_3d/metrics-" + good, "kart3d_ppo_test");
        String missing = newRoom();
        publish(missing, seedTask(missing, "user-102/kart_3d/none-" + missing, "kart3d_ppo_test"));
        publish("bad", Files.readAllBytes(Path.of("examples/malformed.json")));
        assertThat(awaitResult(good).path("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(awaitResult(missing).path("outcome").asText()).isEqualTo("FAILED");
        await().atMost(Duration.ofSeconds(60)).until(() -> !deadLetters().records("bad").isEmpty());

        // the REJECTED result and the counters are committed by different steps: wait for the scrape.
        // At least, not exactly: other test classes share this context and may still have work in flight.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            PrometheusScrape after = PrometheusScrape.of(port);
            assertThat(delta(before, after, "paia_tasks_accepted_total")).isGreaterThanOrEqualTo(2);
            assertThat(delta(before, after, "paia_tasks_rejected_total", "reason_class", "malformed"))
                    .isGreaterThanOrEqualTo(1);
            assertThat(delta(before, after, "paia_instance_outcomes_total", "outcome", "SUCCEEDED", "source", "none"))
                    .isGreaterThanOrEqualTo(1);
            assertThat(delta(before, after, "paia_instance_outcomes_total", "outcome", "FAILED", "source", "INPUT"))
                    .isGreaterThanOrEqualTo(1);
            // the simulated game runs for 300 ms between its pod's start and its container's end
            assertThat(delta(before, after, "paia_gpu_seconds_total")).isGreaterThan(0).isLessThan(60);
            assertThat(delta(before, after, "paia_failures_total", "route", "instance-launch", "class", "INVALID"))
                    .isGreaterThanOrEqualTo(1);
            assertThat(after.sum("paia_ledger_lag_records")).hasValue(0);
        });

        PrometheusScrape after = PrometheusScrape.of(port);
        for (String phase : DispatcherMetrics.PHASES) {
            assertThat(after.samples("paia_game_pods", "phase", phase)).as("pods in phase %s", phase).hasSize(1);
            assertThat(after.value("paia_game_pods", "phase", phase)).isGreaterThanOrEqualTo(0);
        }
        for (String reasonClass : DispatcherMetrics.REJECTION_CLASSES) {
            assertThat(after.samples("paia_tasks_rejected_total", "reason_class", reasonClass)).hasSize(1);
        }
        assertThat(after.samples("paia_dispatch_gap_seconds_count")).hasSize(1);
        // one series per configured pool (the test profile's: default and gpu-a)
        for (String pool : new String[] {"default", "gpu-a"}) {
            assertThat(after.samples("paia_pool_capacity", "pool", pool)).as("capacity of pool %s", pool).hasSize(1);
            assertThat(after.samples("paia_pool_active_pods", "pool", pool)).hasSize(1);
            assertThat(after.samples("paia_pool_waiting_instances", "pool", pool)).hasSize(1);
        }
        assertThat(after.value("paia_pool_capacity", "pool", "default"))
                .isEqualTo(properties.getScheduler().getMaxActivePods());
        assertThat(after.samples("paia_dispatch_gap_seconds_bucket")).hasSizeGreaterThan(5);
        // the game pods are deleted once their outcomes are recorded: none is left running
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(PrometheusScrape.of(port).value("paia_game_pods", "phase", "Running")).isZero());
        // Camel's own route metrics sit beside ours
        assertThat(after.value("camel_exchanges_total", "routeId", "task-intake")).isGreaterThanOrEqualTo(3);
    }

    @Test
    @Order(2) // after a failure has been counted: counters with labels appear at their first count
    void everyMetricOfTheGrafanaDashboardExistsInAScrape() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        List<String> expressions = new ArrayList<>();
        dashboard.findValues("expr").forEach(e -> expressions.add(e.asText()));
        assertThat(expressions).as("PromQL expressions of %s", DASHBOARD).hasSizeGreaterThan(5);

        Set<String> used = new TreeSet<>();
        for (String expr : expressions) {
            Matcher m = METRIC.matcher(expr);
            while (m.find()) {
                used.add(m.group(1));
            }
        }
        assertThat(used).contains("paia_tasks_accepted_total", "paia_tasks_rejected_total", "paia_game_pods",
                "paia_instance_outcomes_total", "paia_gpu_seconds_total", "paia_failures_total", "paia_retries_total",
                "paia_ledger_lag_records", "paia_dispatch_gap_seconds_bucket", "paia_pool_capacity",
                "paia_pool_active_pods", "paia_pool_waiting_instances");

        // paia_retries_total appears at the first redelivery, which this test does not provoke
        Set<String> scraped = PrometheusScrape.of(port).names();
        assertThat(scraped).as("metric names in /actuator/prometheus").containsAll(used.stream()
                .filter(name -> !name.equals("paia_retries_total") || scraped.contains(name)).toList());
    }

    private static double delta(PrometheusScrape before, PrometheusScrape after, String name, String... labels) {
        return after.value(name, labels) - before.value(name, labels);
    }
}
