package org.paia.dispatcher.security;

import static org.paia.dispatcher.security.JolokiaCalls.assertDenied;
import static org.paia.dispatcher.security.JolokiaCalls.body;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.support.DispatcherIT;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The login and the role split over real HTTP, against the shared local-mode dispatcher with
 * authentication on (profile "test"): Jolokia without credentials gets 401, a viewer reads route
 * counters but cannot stop a route or write an attribute, an admin can stop and start one.
 */
class WebSecurityIT extends DispatcherIT {

    /** The test-only users of application-test.yaml (their bcrypt hashes are there). */
    static final String VIEWER = "viewer";
    static final String VIEWER_PASSWORD = "viewer-test-password";
    static final String ADMIN = "admin";
    static final String ADMIN_PASSWORD = "admin-test-password";


    @LocalServerPort
    int port;
    @Autowired
    CamelContext camel;

    private JolokiaCalls calls;

    @BeforeEach
    void jolokiaCalls() {
        calls = new JolokiaCalls(port, camel);
    }

    @Test
    void jolokiaWithoutCredentialsGets401WithABasicChallenge() throws Exception {
        HttpResponse<String> response = JolokiaCalls.HTTP.send(HttpRequest.newBuilder(calls.url("/actuator/jolokia/version")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValue("Basic realm=\"paia-dispatcher\"");
        assertThat(response.body()).doesNotContain("\"agent\"");
    }

    @Test
    void jolokiaWithAWrongPasswordGets401() throws Exception {
        HttpResponse<String> response = calls.jolokia(VIEWER, "not-the-password",
                Map.of("type", "read", "mbean", calls.route("task-intake"), "attribute", "ExchangesTotal"));

        assertThat(response.statusCode()).isEqualTo(401);
    }

    @Test
    void healthStaysOpenForTheProbes() throws Exception {
        HttpResponse<String> response = JolokiaCalls.HTTP.send(
                HttpRequest.newBuilder(calls.url("/actuator/health/readiness")).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isIn(200, 503);
        assertThat(response.body()).contains("\"status\"");
    }

    /** paia.security.prometheus-public=true (the default): the scraper needs no login. */
    @Test
    void prometheusIsNotBehindTheLogin() throws Exception {
        HttpResponse<String> response = JolokiaCalls.HTTP.send(
                HttpRequest.newBuilder(calls.url("/actuator/prometheus")).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("jvm_memory_used_bytes");
    }

    @Test
    void otherActuatorEndpointsNeedALogin() throws Exception {
        HttpResponse<String> response = JolokiaCalls.HTTP.send(
                HttpRequest.newBuilder(calls.url("/actuator/info")).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(401);
    }

    @Test
    void hawtioPageWithoutLoginSendsABrowserToTheLoginForm() throws Exception {
        HttpResponse<String> response = JolokiaCalls.HTTP.send(HttpRequest.newBuilder(calls.url("/actuator/hawtio/"))
                .header("Accept", "text/html").build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(302);
        assertThat(response.headers().firstValue("Location")).hasValueSatisfying(
                location -> assertThat(location).endsWith("/login"));

        HttpResponse<String> login = JolokiaCalls.HTTP.send(HttpRequest.newBuilder(calls.url("/login")).header("Accept", "text/html").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(login.statusCode()).isEqualTo(200);
        assertThat(login.body()).contains("name=\"username\"", "name=\"password\"", "name=\"_csrf\"");
    }

    @Test
    void viewerReadsRouteCountersAndReadOnlyOperations() throws Exception {
        JsonNode counter = body(calls.jolokia(VIEWER, VIEWER_PASSWORD,
                Map.of("type", "read", "mbean", calls.route("task-intake"), "attribute", "ExchangesTotal")));
        assertThat(counter.path("status").asInt()).as(counter.toString()).isEqualTo(200);
        assertThat(counter.path("value").isNumber()).as(counter.toString()).isTrue();

        JsonNode dump = body(calls.jolokia(VIEWER, VIEWER_PASSWORD,
                Map.of("type", "exec", "mbean", calls.route("task-intake"), "operation", "dumpRouteAsXml()")));
        assertThat(dump.path("status").asInt()).as(dump.toString()).isEqualTo(200);
        assertThat(dump.path("value").asText()).contains("task-intake");
    }

    @Test
    void viewerCannotStopARouteNorWriteAnAttribute() throws Exception {
        HttpResponse<String> stop = calls.jolokia(VIEWER, VIEWER_PASSWORD,
                Map.of("type", "exec", "mbean", calls.route("task-intake"), "operation", "stop()"));
        assertDenied(stop);
        assertThat(camel.getRouteController().getRouteStatus("task-intake")).isEqualTo(ServiceStatus.Started);

        HttpResponse<String> suspend = calls.jolokia(VIEWER, VIEWER_PASSWORD,
                Map.of("type", "exec", "mbean", calls.route("task-intake"), "operation", "suspend()"));
        assertDenied(suspend);
        assertThat(camel.getRouteController().getRouteStatus("task-intake")).isEqualTo(ServiceStatus.Started);

        HttpResponse<String> write = calls.jolokia(VIEWER, VIEWER_PASSWORD,
                Map.of("type", "write", "mbean", calls.route("task-intake"), "attribute", "Tracing", "value", true));
        assertDenied(write);
    }

    /** pod-relist is a periodic safety net: stopping it for a moment disturbs no other test. */
    @Test
    void adminStopsAndStartsARoute() throws Exception {
        try {
            JsonNode stop = body(calls.jolokia(ADMIN, ADMIN_PASSWORD,
                    Map.of("type", "exec", "mbean", calls.route("pod-relist"), "operation", "stop()")));
            assertThat(stop.path("status").asInt()).as(stop.toString()).isEqualTo(200);
            assertThat(camel.getRouteController().getRouteStatus("pod-relist")).isEqualTo(ServiceStatus.Stopped);

            JsonNode start = body(calls.jolokia(ADMIN, ADMIN_PASSWORD,
                    Map.of("type", "exec", "mbean", calls.route("pod-relist"), "operation", "start()")));
            assertThat(start.path("status").asInt()).as(start.toString()).isEqualTo(200);
            assertThat(camel.getRouteController().getRouteStatus("pod-relist")).isEqualTo(ServiceStatus.Started);
        } finally {
            if (camel.getRouteController().getRouteStatus("pod-relist") != ServiceStatus.Started) {
                camel.getRouteController().startRoute("pod-relist");
            }
        }
    }
}
