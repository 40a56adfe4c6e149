package org.paia.dispatcher.routes;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.AdviceWith;
import org.apache.camel.builder.AdviceWithRouteBuilder;
import org.apache.camel.builder.NotifyBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.test.spring.junit5.CamelSpringBootTest;
import org.apache.camel.test.spring.junit5.DisableJmx;
import org.apache.camel.util.function.ThrowingConsumer;
import org.junit.jupiter.api.AfterAll;
import org.paia.dispatcher.support.CapturedLogs;
import org.paia.dispatcher.support.DispatcherIT;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Base of the route tests: one test class per route file, run against the whole dispatcher in local mode
 * (the real broker, Azurite, the Kubernetes API server; one Spring context for all of them, so the suite
 * takes seconds). A test advises a route ({@link AdviceWith}: a mock endpoint or an injected fault at a
 * named step), watches it with a {@link NotifyBuilder}, and asserts what the route did to the real
 * services. An advised route file is loaded again from the jar after the class, as a live reload would,
 * so the next test class (and the integration tests sharing the context) see the routes as shipped.
 *
 * <p>Run them alone: {@code ./mvnw -B test -Dtest='*RouteTest*'}.
 */
@CamelSpringBootTest
@DisableJmx(false) // camel-test's default turns JMX off for every route added later: Hawtio would lose them
public abstract class RouteTestSupport extends DispatcherIT {

    private static final Map<String, Resource> ADVISED = new LinkedHashMap<>();
    private static final Set<String> ADVISED_ROUTES = new HashSet<>();
    private static CamelContext advisedContext;

    @Autowired
    protected CamelContext camel;
    @Autowired
    protected ProducerTemplate template;

    /**
     * Advises a route of the running context until the end of the test class (Camel restarts just that
     * route), e.g. {@code a.weaveById("publish-result").before().to("mock:completion")}. Once per class and
     * route: call it from a {@code @BeforeEach}.
     */
    protected void advise(String routeId, ThrowingConsumer<AdviceWithRouteBuilder, Exception> advice) throws Exception {
        synchronized (ADVISED) {
            if (!ADVISED_ROUTES.add(routeId)) {
                return;
            }
        }
        RouteDefinition route = ((ModelCamelContext) camel).getRouteDefinition(routeId);
        assertThat(route).as("route %s", routeId).isNotNull();
        Resource file = route.getResource();
        synchronized (ADVISED) {
            ADVISED.putIfAbsent(file.getLocation(), file);
            advisedContext = camel;
        }
        long forcedBefore = forcedStops();
        AdviceWith.adviceWith(camel, routeId, advice);
        assertThat(forcedStops()).as("stops of %s forced after the shutdown timeout", routeId).isEqualTo(forcedBefore);
    }

    /**
     * Route stops Camel had to force after the shutdown timeout: a route replaced while the dispatcher runs
     * (advice here, a live reload in production) must stop gracefully (a seda consumer fed faster than it
     * polls did not).
     */
    private static long forcedStops() {
        return CapturedLogs.events().stream().filter(e -> e.contains("Timeout occurred during graceful shutdown")).count();
    }

    /** Loads a route file into the running context, as {@code paia.routes-dir} loads a new file. */
    protected void loadRouteFile(java.nio.file.Path file) throws Exception {
        PluginHelper.getRoutesLoader(camel).updateRoutes(
                PluginHelper.getResourceLoader(camel).resolveResource("file:" + file.toAbsolutePath()));
    }

    protected MockEndpoint mock(String name) {
        return camel.getEndpoint("mock:" + name, MockEndpoint.class);
    }

    /** True once the route has completed or failed {@code exchanges} more exchanges, within the timeout. */
    protected boolean routeDone(NotifyBuilder notify, long seconds) {
        return notify.matches(seconds, TimeUnit.SECONDS);
    }

    /** Puts every advised route file back as shipped (the routes of the file are replaced by id). */
    @AfterAll
    static void restoreAdvisedRoutes() throws Exception {
        synchronized (ADVISED) {
            if (advisedContext != null && !ADVISED.isEmpty()) {
                long forcedBefore = forcedStops();
                PluginHelper.getRoutesLoader(advisedContext).updateRoutes(ADVISED.values());
                assertThat(forcedStops()).as("stops forced reloading %s", ADVISED.keySet()).isEqualTo(forcedBefore);
                MockEndpoint.resetMocks(advisedContext);
            }
            ADVISED.clear();
            ADVISED_ROUTES.clear();
        }
    }
}
