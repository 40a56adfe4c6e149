package org.paia.dispatcher.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import org.paia.dispatcher.ledger.Ledger;
import org.paia.dispatcher.ledger.LedgerReader;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The dispatcher's own metrics, hooked onto the ledger and the Camel event stream (docs/metrics.md). */
@Configuration(proxyBeanMethods = false)
public class MetricsConfiguration {

    @Bean
    DispatcherMetrics dispatcherMetrics(MeterRegistry registry, Ledger ledger, LedgerReader reader, Clock clock) {
        DispatcherMetrics metrics = new DispatcherMetrics(registry, reader, clock);
        ledger.addCommittedListener(metrics::committed);
        reader.addAppliedListener(metrics::applied);
        return metrics;
    }

    /** Camel Spring Boot adds every EventNotifier bean to the context. */
    @Bean
    PipelineEventNotifier pipelineEventNotifier(DispatcherMetrics metrics) {
        return new PipelineEventNotifier(metrics);
    }
}
