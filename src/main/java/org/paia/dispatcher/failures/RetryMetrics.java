package org.paia.dispatcher.failures;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.ExchangeHelper;

/**
 * Counts every redelivery, by route and failure class, so that retries are visible in
 * {@code /actuator/prometheus} as {@code paia_retries_total}. Called before each redelivery
 * ({@code onRedeliveryRef} in {@code routes/errors.yaml}).
 */
public class RetryMetrics implements Processor {

    private final MeterRegistry registry;

    public RetryMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void process(Exchange exchange) {
        Exception cause = exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        Counter.builder("paia.retries")
                .description("Redeliveries of a failed step, by route and failure class")
                .tag("route", String.valueOf(ExchangeHelper.getAtRouteId(exchange)))
                .tag("class", FailureClassifier.classify(cause).name())
                .register(registry).increment();
    }
}
