package org.paia.dispatcher.routes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import org.apache.camel.ServiceStatus;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.support.ResultCollector;

/**
 * README "Change a route": {@code docs/examples/results-audit.yaml} copies every result to a second topic,
 * in YAML only. Loaded into the running dispatcher as the routes-directory reload loads a new file.
 */
class ResultsAuditRouteTest extends RouteTestSupport {

    static final String EXAMPLE = "docs/examples/results-audit.yaml";
    static final String AUDIT_TOPIC = "paia.game.results.audit";

    @BeforeEach
    void loadTheExample() throws Exception {
        if (camel.getRoute("results-audit") == null) {
            loadRouteFile(Path.of(EXAMPLE));
        }
        assertThat(camel.getRouteController().getRouteStatus("results-audit")).isEqualTo(ServiceStatus.Started);
    }

    @AfterEach
    void removeTheExample() throws Exception {
        camel.getRouteController().stopRoute("results-audit");
        camel.removeRoute("results-audit");
    }

    @Test
    void everyResultIsCopiedToTheAuditTopicWithItsKeyAndBytes() throws Exception {
        String room = newRoom();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");
        awaitResult(room);

        try (ResultCollector audit = new ResultCollector(properties.getKafka().getBootstrapServers(), AUDIT_TOPIC)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> !audit.records(room).isEmpty());
            ConsumerRecord<String, byte[]> copy = audit.records(room).get(0);
            assertThat(copy.value()).isEqualTo(results().records(room).get(0).value());
        }
    }
}
