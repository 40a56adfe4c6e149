package org.paia.dispatcher.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.apache.camel.CamelContext;

/** Jolokia over HTTP with a Basic login, as Hawtio calls it: what the security ITs send and how they read it. */
final class JolokiaCalls {

    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    private final int port;
    private final CamelContext camel;

    JolokiaCalls(int port, CamelContext camel) {
        this.port = port;
        this.camel = camel;
    }

    HttpResponse<String> jolokia(String user, String password, Map<String, Object> request) throws Exception {
        String credentials = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return HTTP.send(HttpRequest.newBuilder(url("/actuator/jolokia"))
                .header("Authorization", "Basic " + credentials)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(request)))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The MBean name of a route of this context. */
    String route(String routeId) {
        return "org.apache.camel:context=" + camel.getManagementName() + ",type=routes,name=\"" + routeId + "\"";
    }

    URI url(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    /** The body of an HTTP 200 answer. */
    static JsonNode body(HttpResponse<String> response) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** Refused: HTTP 403, or Jolokia's own 403 error in a 200 answer. */
    static void assertDenied(HttpResponse<String> response) throws Exception {
        if (response.statusCode() == 403) {
            return;
        }
        JsonNode body = body(response);
        assertThat(body.path("status").asInt()).as(body.toString()).isEqualTo(403);
        assertThat(body.path("error").asText()).as(body.toString()).contains("forbidden");
    }
}
