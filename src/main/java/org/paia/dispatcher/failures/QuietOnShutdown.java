package org.paia.dispatcher.failures;

import java.util.concurrent.RejectedExecutionException;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.spi.ExceptionHandler;
import org.apache.camel.support.LoggingExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exception handler of the scheduler's timers ({@code exceptionHandler: "#bean:quietOnShutdown"}). A timer
 * whose task had already started when the application began to shut down hands its exchange to a route whose
 * error handler has stopped, which rejects it ({@link RejectedExecutionException}): nothing is lost (the next
 * scheduler ticks, relists and sweeps again), so that is logged at DEBUG while the context stops. Anything else,
 * and a rejection at any other time, is logged as Camel's default handler does (WARN).
 */
public class QuietOnShutdown implements ExceptionHandler {

    private static final Logger LOG = LoggerFactory.getLogger(QuietOnShutdown.class);

    private final CamelContext camelContext;
    private final ExceptionHandler standard;

    public QuietOnShutdown(CamelContext camelContext) {
        this.camelContext = camelContext;
        this.standard = new LoggingExceptionHandler(camelContext, QuietOnShutdown.class);
    }

    @Override
    public void handleException(Throwable exception) {
        handleException(null, null, exception);
    }

    @Override
    public void handleException(String message, Throwable exception) {
        handleException(message, null, exception);
    }

    @Override
    public void handleException(String message, Exchange exchange, Throwable exception) {
        if (exception instanceof RejectedExecutionException && (camelContext.isStopping() || camelContext.isStopped())) {
            LOG.debug("Timer exchange rejected while shutting down (the next scheduler does its work): {}", message);
            return;
        }
        standard.handleException(message, exchange, exception);
    }
}
