package org.paia.dispatcher.metrics;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.Collection;
import org.apache.camel.Exchange;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.spi.CamelEvent.ExchangeCompletedEvent;
import org.apache.camel.spi.CamelEvent.ExchangeFailedEvent;
import org.apache.camel.spi.CamelEvent.ExchangeFailureHandledEvent;
import org.apache.camel.spi.CamelEvent.ExchangeSendingEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.apache.camel.support.ExchangeHelper;
import org.paia.dispatcher.config.Headers;
import org.paia.dispatcher.failures.FailureClassifier;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.watch.FinishedRun;

/**
 * Feeds {@link DispatcherMetrics} from the routes' exchanges without a step in any route:
 * <ul>
 *   <li>a completed {@code task-intake} exchange: its verdict header (the transaction committed);</li>
 *   <li>what is sent to {@code direct:podEvent}: every pod the watch, the relist and the launch see;
 *       a completed {@code pod-relist} exchange: the full listing;</li>
 *   <li>what is sent to {@code seda:finishRun}: a game ended; a pod sent with action
 *       {@code LAUNCHED}: a pod was created (the dispatch gap);</li>
 *   <li>a failure an error handler gave up on, or an exchange that failed unhandled: terminal
 *       failures by route and class.</li>
 * </ul>
 */
public class PipelineEventNotifier extends EventNotifierSupport {

    static final String INTAKE_ROUTE = "task-intake";
    static final String RELIST_ROUTE = "pod-relist";
    static final String POD_EVENT = "direct://podEvent";
    static final String FINISH_RUN = "seda://finishRun";
    static final String ACTION_HEADER = "CamelKubernetesEventAction";

    private final DispatcherMetrics metrics;

    public PipelineEventNotifier(DispatcherMetrics metrics) {
        this.metrics = metrics;
        setIgnoreCamelContextEvents(true);
        setIgnoreCamelContextInitEvents(true);
        setIgnoreRouteEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreStepEvents(true);
        setIgnoreExchangeCreatedEvent(true);
        setIgnoreExchangeSentEvents(true);
        setIgnoreExchangeRedeliveryEvents(true);
        setIgnoreExchangeAsyncProcessingStartedEvents(true);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof ExchangeCompletedEvent || event instanceof ExchangeFailedEvent
                || event instanceof ExchangeFailureHandledEvent || event instanceof ExchangeSendingEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        if (event instanceof ExchangeSendingEvent sending) {
            sending(sending.getEndpoint().getEndpointUri(), sending.getExchange());
        } else if (event instanceof ExchangeFailureHandledEvent handled) {
            if (handled.getExchange().getException() == null) { // handled; an unhandled one fails the exchange
                failed(handled.getExchange());
            }
        } else if (event instanceof ExchangeFailedEvent failed) {
            failed(failed.getExchange());
        } else if (event instanceof ExchangeCompletedEvent completed) {
            completed(completed.getExchange());
        }
    }

    private void sending(String uri, Exchange exchange) {
        if (uri.startsWith(POD_EVENT)) {
            Object body = exchange.getMessage().getBody();
            String action = exchange.getMessage().getHeader(ACTION_HEADER, String.class);
            if (body instanceof Pod pod) {
                metrics.podSeen(pod, action);
                if ("LAUNCHED".equals(action)) {
                    GameRun run = exchange.getMessage().getHeader(Headers.GAME_RUN, GameRun.class);
                    metrics.podCreated(run == null ? null : run.roomId());
                }
            }
        } else if (uri.startsWith(FINISH_RUN) && exchange.getMessage().getBody() instanceof FinishedRun) {
            metrics.gameEnded();
        }
    }

    private void completed(Exchange exchange) {
        if (exchange.isFailed()) {
            return;
        }
        String route = exchange.getFromRouteId();
        if (INTAKE_ROUTE.equals(route)) {
            String verdict = exchange.getMessage().getHeader(Headers.INTAKE_VERDICT, String.class);
            if ("accepted".equals(verdict)) {
                metrics.taskAccepted();
            } else if ("rejected".equals(verdict)) {
                metrics.taskRejected(exchange.getMessage().getHeader(Headers.INTAKE_REJECTION, String.class));
            }
        } else if (RELIST_ROUTE.equals(route) && exchange.getMessage().getBody() instanceof Collection<?> listed
                && listed.stream().allMatch(Pod.class::isInstance)) {
            @SuppressWarnings("unchecked")
            Collection<Pod> pods = (Collection<Pod>) listed;
            metrics.podsListed(pods);
        }
    }

    private void failed(Exchange exchange) {
        Exception cause = exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        String route = ExchangeHelper.getAtRouteId(exchange);
        metrics.terminalFailure(route != null ? route : exchange.getFromRouteId(), FailureClassifier.classify(cause));
    }
}
