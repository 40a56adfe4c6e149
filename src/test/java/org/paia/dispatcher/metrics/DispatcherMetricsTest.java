package org.paia.dispatcher.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.ledger.FailureSource;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.LedgerReader;
import org.paia.dispatcher.ledger.Outcome;

/** The bookkeeping behind the metrics that one end-to-end run cannot show: pairing and de-duplication. */
class DispatcherMetricsTest {

    private static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MutableClock clock = new MutableClock(T0);
    private final DispatcherMetrics metrics = new DispatcherMetrics(registry,
            new LedgerReader("127.0.0.1:1", Map.of(), "ledger", null, new ObjectMapper()), clock);

    @Test
    void dispatchGapCountsOnlyWorkThatWasWaitingWhenAGameEnded() {
        metrics.applied(LedgerEntry.accepted("waiting", null, T0));
        clock.now = T0.plusSeconds(10);
        metrics.gameEnded();
        clock.now = T0.plusSeconds(12);
        metrics.podCreated("waiting"); // accepted before the end: a 2 s gap
        assertThat(gap().count()).isEqualTo(1);
        assertThat(gap().totalTime(java.util.concurrent.TimeUnit.MILLISECONDS)).isEqualTo(2000);

        metrics.gameEnded();
        clock.now = T0.plusSeconds(100);
        metrics.applied(LedgerEntry.accepted("late", null, T0.plusSeconds(90)));
        metrics.podCreated("late"); // arrived after the end: idleness, not dispatch
        metrics.podCreated("waiting"); // no game end left to pair with
        assertThat(gap().count()).isEqualTo(1);
    }

    @Test
    void anInstanceOutcomeIsCountedOnceAndItsGpuTimeWithIt() {
        LedgerEntry outcome = LedgerEntry.outcome("room", 0, 0, "pod", Outcome.FAILED, "exit 1", FailureSource.USER_CODE,
                null, null, T0, T0.plus(Duration.ofMillis(1500)));
        metrics.committed(outcome);
        metrics.committed(outcome); // a retried record of the same instance
        assertThat(registry.get("paia.instance.outcomes").tags("outcome", "FAILED", "source", "USER_CODE").counter()
                .count()).isEqualTo(1);
        assertThat(registry.get("paia.gpu.seconds").counter().count()).isEqualTo(1.5);
        assertThat(registry.get("paia.ledger.lag.records").gauge().value()).isNaN();
    }

    @Test
    void rejectionReasonsFallIntoFewClasses() {
        assertThat(DispatcherMetrics.rejectionClass("duplicate task: room_id r already has a task")).isEqualTo("duplicate");
        assertThat(DispatcherMetrics.rejectionClass("malformed JSON at line 1 column 2: x")).isEqualTo("malformed");
        assertThat(DispatcherMetrics.rejectionClass("message contains a NUL character")).isEqualTo("malformed");
        assertThat(DispatcherMetrics.rejectionClass("unknown game 'data.game_name'=\"x\"")).isEqualTo("unknown_game");
        assertThat(DispatcherMetrics.rejectionClass("unknown pool 'data.pool'=\"h100\" is not configured"))
                .isEqualTo("unknown_pool");
        assertThat(DispatcherMetrics.rejectionClass("unknown priority 'data.priority'=\"vip\" is not configured"))
                .isEqualTo("unknown_priority");
        assertThat(DispatcherMetrics.rejectionClass("field 'data.ws_uri' must be a ws:// or wss:// URI"))
                .isEqualTo("invalid_field");
        assertThat(DispatcherMetrics.rejectionClass("something new")).isEqualTo("other");
    }

    @Test
    void eachPoolHasItsCapacityActivePodsAndWaitingInstances() {
        org.paia.dispatcher.schedule.TaskBook book = new org.paia.dispatcher.schedule.TaskBook(
                new org.paia.dispatcher.task.TaskParser(new ObjectMapper(),
                        new org.paia.dispatcher.config.DispatcherProperties.Limits(), java.util.Set.of("kart_3d"),
                        "http://127.0.0.1:10000/devstoreaccount1"));
        metrics.watchPools(org.paia.dispatcher.config.GpuPools.single(3), book);

        assertThat(registry.get("paia.pool.capacity").tags("pool", "default").gauge().value()).isEqualTo(3);
        assertThat(registry.get("paia.pool.active.pods").tags("pool", "default").gauge().value()).isZero();
        assertThat(registry.get("paia.pool.waiting.instances").tags("pool", "default").gauge().value()).isZero();
    }

    @Test
    void eachPoolHasItsWaitingInstancesByPriorityClass() {
        org.paia.dispatcher.schedule.TaskBook book = new org.paia.dispatcher.schedule.TaskBook(
                new org.paia.dispatcher.task.TaskParser(new ObjectMapper(),
                        new org.paia.dispatcher.config.DispatcherProperties.Limits(), java.util.Set.of("kart_3d"),
                        "http://127.0.0.1:10000/devstoreaccount1"));
        book.markCaughtUp();
        book.startScheduling();
        ObjectNode data = new ObjectMapper().createObjectNode().put("game_id", 7).put("game_name", "kart_3d")
                .put("room_id", "r").put("ws_uri", "ws://web/ws").put("instances", 3).put("priority", "ranked");
        data.putArray("programs").addObject().put("url", "http://127.0.0.1:10000/devstoreaccount1/user-1/p").put("code_name", "p");
        book.apply(LedgerEntry.accepted("r", data, T0));
        metrics.watchPriorities(org.paia.dispatcher.config.GpuPools.single(3),
                org.paia.dispatcher.config.Priorities.defaults(), book);

        assertThat(registry.get("paia.priority.waiting.instances").tags("pool", "default", "priority", "ranked").gauge()
                .value()).isEqualTo(3);
        assertThat(registry.get("paia.priority.waiting.instances").tags("pool", "default", "priority", "tournament")
                .gauge().value()).isZero();
    }

    private io.micrometer.core.instrument.Timer gap() {
        return registry.get("paia.dispatch.gap").timer();
    }

    private static final class MutableClock extends Clock {
        Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
