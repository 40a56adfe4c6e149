package org.paia.dispatcher.failures;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.concurrent.RejectedExecutionException;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A timer tick rejected while the application shuts down is no warning; any other failure still is. */
class QuietOnShutdownTest {

    @Test
    void aRejectionWhileStoppingIsQuietAndEverythingElseIsLogged() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(QuietOnShutdown.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            camel.start();
            QuietOnShutdown handler = new QuietOnShutdown(camel);
            handler.handleException("Error processing exchange", new RejectedExecutionException());
            handler.handleException("Error processing exchange", new IllegalStateException("boom"));
            assertThat(appender.list).extracting(ILoggingEvent::getLevel).containsExactly(Level.WARN, Level.WARN);

            camel.stop();
            appender.list.clear();
            handler.handleException("Error processing exchange", new RejectedExecutionException());
            assertThat(appender.list).noneMatch(e -> e.getLevel().isGreaterOrEqual(Level.INFO));
        } finally {
            logger.detachAppender(appender);
        }
    }
}
