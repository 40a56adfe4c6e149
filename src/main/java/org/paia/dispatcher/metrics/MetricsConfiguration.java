package org.paia.dispatcher.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import org.paia.dispatcher.config.GpuPools;
import org.paia.dispatcher.config.Priorities;
import org.paia.dispatcher.ledger.Ledger;
import org.paia.dispatcher.ledger.LedgerReader;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Collection;
import org.paia.dispatcher.intake.IntakeRecords;
import org.paia.dispatcher.schedule.TaskBook;
import org.paia.dispatcher.watch.PodObserver;
import org.paia.dispatcher.watch.RunWatcher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The dispatcher's own metrics, hooked onto the ledger and the Camel event stream (docs/metrics.md). */
@Configuration(proxyBeanMethods = false)
public class MetricsConfiguration {

    @Bean
    DispatcherMetrics dispatcherMetrics(MeterRegistry registry, Ledger ledger, LedgerReader reader, Clock clock,
                                        IntakeRecords intake, RunWatcher watcher, GpuPools pools, Priorities priorities,
                                        TaskBook book) {
        DispatcherMetrics metrics = new DispatcherMetrics(registry, reader, clock);
        metrics.watchPools(pools, book);
        metrics.watchPriorities(pools, priorities, book);
        ledger.addCommittedListener(metrics::committed);
        reader.addAppliedListener(metrics::applied);
        // From the beans that see the work, not from route ids or endpoint names: editing a route cannot
        // silently stop a metric.
        intake.addVerdictListener((verdict, rejection) -> {
            if ("accepted".equals(verdict)) {
                metrics.taskAccepted();
            } else if (verdict.startsWith("cancel_")) {
                metrics.cancelReceived(verdict.substring("cancel_".length()));
            } else {
                metrics.taskRejected(rejection);
            }
        });
        watcher.addObserver(new PodObserver() {
            @Override
            public void podSeen(Pod pod, String action) {
                metrics.podSeen(pod, action);
            }

            @Override
            public void podsListed(Collection<Pod> pods) {
                metrics.podsListed(pods);
            }

            @Override
            public void podCreated(String roomId) {
                metrics.podCreated(roomId);
            }

            @Override
            public void gameEnded() {
                metrics.gameEnded();
            }
        });
        return metrics;
    }

    /** Camel Spring Boot adds every EventNotifier bean to the context. */
    @Bean
    PipelineEventNotifier pipelineEventNotifier(DispatcherMetrics metrics) {
        return new PipelineEventNotifier(metrics);
    }
}
