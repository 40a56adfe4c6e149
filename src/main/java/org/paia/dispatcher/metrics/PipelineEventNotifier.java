package org.paia.dispatcher.metrics;

import org.apache.camel.Exchange;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.spi.CamelEvent.ExchangeFailedEvent;
import org.apache.camel.spi.CamelEvent.ExchangeFailureHandledEvent;
import org.apache.camel.spi.CamelEvent.ExchangeRedeliveryEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.apache.camel.support.ExchangeHelper;
import org.paia.dispatcher.failures.FailureClassifier;

/**
 * Counts redeliveries and steps that failed for good, by the route they failed in and their failure class,
 * from Camel's event stream (no step in any route, no reference in a route file): each redelivery an error
 * handler makes, a failure an error handler gave up on, or an exchange that failed unhandled. The route is
 * the exchange's own, so any route, renamed or new, is counted.
 */
public class PipelineEventNotifier extends EventNotifierSupport {

    private final DispatcherMetrics metrics;

    public PipelineEventNotifier(DispatcherMetrics metrics) {
        this.metrics = metrics;
        setIgnoreCamelContextEvents(true);
        setIgnoreCamelContextInitEvents(true);
        setIgnoreRouteEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreStepEvents(true);
        setIgnoreExchangeCreatedEvent(true);
        setIgnoreExchangeSendingEvents(true);
        setIgnoreExchangeSentEvents(true);
        setIgnoreExchangeCompletedEvent(true);
        setIgnoreExchangeAsyncProcessingStartedEvents(true);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof ExchangeFailedEvent || event instanceof ExchangeFailureHandledEvent
                || event instanceof ExchangeRedeliveryEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        if (event instanceof ExchangeRedeliveryEvent redelivery) {
            Exchange exchange = redelivery.getExchange();
            metrics.retry(route(exchange), FailureClassifier.classify(cause(exchange)));
        } else if (event instanceof ExchangeFailureHandledEvent handled) {
            if (handled.getExchange().getException() == null) { // handled; an unhandled one fails the exchange
                failed(handled.getExchange());
            }
        } else if (event instanceof ExchangeFailedEvent failed) {
            failed(failed.getExchange());
        }
    }

    private void failed(Exchange exchange) {
        metrics.terminalFailure(route(exchange), FailureClassifier.classify(cause(exchange)));
    }

    private static Exception cause(Exchange exchange) {
        return exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
    }

    private static String route(Exchange exchange) {
        String route = ExchangeHelper.getAtRouteId(exchange);
        return route != null ? route : exchange.getFromRouteId();
    }
}
