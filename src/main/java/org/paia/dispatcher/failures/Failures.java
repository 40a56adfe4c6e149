package org.paia.dispatcher.failures;

import org.apache.camel.Exchange;
import org.apache.camel.support.ExchangeHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The classifier as a bean, for {@code onWhen} predicates and steps in the YAML error handlers. */
public class Failures {

    private static final Logger LOG = LoggerFactory.getLogger(Failures.class);

    public boolean isFatal(Throwable failure) {
        return FailureClassifier.classify(failure) == FailureClass.FATAL;
    }

    public boolean isInvalid(Throwable failure) {
        return FailureClassifier.classify(failure) == FailureClass.INVALID;
    }

    /**
     * A task's completion failed after its redeliveries: it stays unconfirmed, and the aggregator's recovery
     * sends it again (a completion is never given up, and never published twice).
     */
    public void leftForRecovery(Exchange exchange) {
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        LOG.warn("Completing task {} failed ({}), it is sent again from the ledger: {}",
                exchange.getProperty(org.apache.camel.ExchangePropertyKey.AGGREGATED_CORRELATION_KEY, String.class),
                FailureClassifier.classify(cause), FailureClassifier.describe(cause));
    }

    /** A periodic route failed; its next round (tick, relist, sweep) repeats the step: one WARN line, no stack trace. */
    public void leftForNextRound(Exchange exchange) {
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        String route = exchange.getProperty(Exchange.FAILURE_ROUTE_ID, String.class);
        LOG.warn("{} failed ({}), its next round tries again: {}",
                route != null ? route : ExchangeHelper.getAtRouteId(exchange),
                FailureClassifier.classify(cause), FailureClassifier.describe(cause));
    }
}
