package org.paia.dispatcher.failures;

import java.util.concurrent.atomic.AtomicReference;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.support.ExchangeHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens on a FATAL failure (fenced producer, 401/403 from an API, an invalid pod template):
 * this replica stops consuming and scheduling at once — committing nothing half-done — and its
 * liveness check turns DOWN so that Kubernetes restarts it. Restarting is the recovery: a new
 * process rebuilds everything from the ledger, and a fenced scheduler comes back as a standby.
 */
public class FatalErrors {

    private static final Logger LOG = LoggerFactory.getLogger(FatalErrors.class);

    private final CamelContext camel;
    private final AtomicReference<String> fatal = new AtomicReference<>();

    public FatalErrors(CamelContext camel) {
        this.camel = camel;
    }

    /** Called by the error handlers ({@code routes/errors.yaml}) with the failed exchange. */
    public void report(Exchange exchange) {
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        if (cause == null) {
            cause = exchange.getException();
        }
        String route = exchange.getProperty(Exchange.FAILURE_ROUTE_ID, String.class);
        record(route != null ? route : ExchangeHelper.getAtRouteId(exchange), cause);
    }

    public void record(String where, Throwable cause) {
        String description = where + ": " + FailureClassifier.describe(cause);
        if (!fatal.compareAndSet(null, description)) {
            return;
        }
        LOG.error("FATAL error in {} — this replica stops consuming and reports itself not alive, so that "
                + "Kubernetes restarts it", description);
        // Not on the failing route's own thread: stopping a route waits for its exchange in flight.
        Thread stopper = new Thread(() -> {
            try {
                camel.getRouteController().stopAllRoutes();
            } catch (Exception e) {
                LOG.error("Could not stop the routes after a fatal error", e);
            }
        }, "fatal-stop");
        stopper.setDaemon(true);
        stopper.start();
    }

    /** The first fatal error, or null. */
    public String fatal() {
        return fatal.get();
    }
}
