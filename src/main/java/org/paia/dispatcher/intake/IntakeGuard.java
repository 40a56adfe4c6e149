package org.paia.dispatcher.intake;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.util.URISupport;
import org.paia.dispatcher.routes.RoutesDirectoryWatcher;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import java.util.List;
import org.apache.camel.Endpoint;
import org.apache.camel.component.kafka.KafkaEndpoint;
import org.apache.camel.component.kafka.PollOnError;
import org.apache.camel.component.kafka.KafkaConfiguration;
import org.apache.camel.spi.EndpointStrategy;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.paia.dispatcher.kafka.TransactionalCommitFactory;

/**
 * Keeps the intake exactly-once whatever a route file says: any Kafka endpoint that consumes the task
 * topic in a consumer group must commit offsets only through the intake's transaction, read only
 * committed records, and rewind rather than skip on a failure. An endpoint that would do otherwise is
 * refused when it is created — at start-up, which then fails naming the setting, and on a live reload,
 * which is then not applied (the running routes stay, and {@code routesReload} in
 * {@code /actuator/health} says why).
 *
 * <p>A check rather than settings fixed in Java: the route keeps its consumer in YAML, where the team
 * tunes what is safe to tune ({@code maxPollRecords}, timeouts), and no edit can silently end exactly-once.
 */
public class IntakeGuard implements EndpointStrategy, RoutesDirectoryWatcher.FileCheck {

    private final String taskTopic;

    public IntakeGuard(String taskTopic) {
        this.taskTopic = taskTopic;
    }

    @Override
    public Endpoint registerEndpoint(String uri, Endpoint endpoint) {
        if (endpoint instanceof KafkaEndpoint kafka && taskTopic.equals(kafka.getConfiguration().getTopic())
                && kafka.getConfiguration().getGroupId() != null) {
            List<String> unsafe = unsafeSettings(kafka);
            if (!unsafe.isEmpty()) {
                throw new IllegalArgumentException("the Kafka consumer of the task topic " + taskTopic
                        + " would end exactly-once, refused: " + String.join("; ", unsafe));
            }
        }
        return endpoint;
    }

    /**
     * Checks a route file before a live reload applies it: Camel's reload first removes the file's running
     * routes, so a consumer refused only when its new endpoint is created would leave no intake at all. Each
     * route's {@code from} is read from the YAML, its placeholders resolved, and the endpoint made (not
     * registered, not started) only to read its settings.
     */
    @Override
    public void check(CamelContext camel, Path file) throws Exception {
        List<?> routes;
        try (Reader in = Files.newBufferedReader(file)) {
            Object yaml = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
            routes = yaml instanceof List<?> list ? list : List.of();
        }
        for (Object item : routes) {
            if (!(item instanceof Map<?, ?> element) || !(element.get("route") instanceof Map<?, ?> route)
                    || !(route.get("from") instanceof Map<?, ?> from) || !(from.get("uri") instanceof String uri)) {
                continue;
            }
            Map<String, Object> parameters = new LinkedHashMap<>();
            if (from.get("parameters") instanceof Map<?, ?> given) {
                given.forEach((key, value) -> parameters.put(String.valueOf(key), value));
            }
            String full = camel.resolvePropertyPlaceholders(parameters.isEmpty() ? uri
                    : URISupport.appendParametersToURI(uri, parameters));
            if (!full.startsWith("kafka:")) {
                continue;
            }
            Endpoint endpoint = camel.getComponent("kafka").createEndpoint(full);
            try {
                registerEndpoint(full, endpoint);
            } finally {
                endpoint.close();
            }
        }
    }

    /** What is wrong with a consumer of the task topic, one line per setting; empty when it is safe. */
    public static List<String> unsafeSettings(KafkaEndpoint endpoint) {
        KafkaConfiguration c = endpoint.getConfiguration();
        List<String> unsafe = new ArrayList<>();
        if (c.isAutoCommitEnable()) {
            unsafe.add("autoCommitEnable must be false (offsets are committed in the intake's transaction only)");
        }
        if (!"read_committed".equals(c.getIsolationLevel())) {
            unsafe.add("isolationLevel must be read_committed (was " + c.getIsolationLevel()
                    + "): an aborted transaction's records would be read");
        }
        if (!c.isAllowManualCommit() || !(endpoint.getKafkaManualCommitFactory() instanceof TransactionalCommitFactory)) {
            unsafe.add("allowManualCommit must be true with kafkaManualCommitFactory=#transactionalCommitFactory "
                    + "(the consumed offset goes into the transaction; Camel must commit nothing itself)");
        }
        if (c.getPollOnError() != PollOnError.RECONNECT) {
            unsafe.add("pollOnError must be RECONNECT (was " + c.getPollOnError() + "): the others skip records");
        }
        if (!c.isBreakOnFirstError()) {
            unsafe.add("breakOnFirstError must be true: a failed task must be read again from the last commit, "
                    + "not passed over");
        }
        if (!c.isBatching()) {
            unsafe.add("batching must be true: paia-tx:intake commits a polled batch's verdicts together with all of "
                    + "its offsets");
        }
        if (!ByteArrayDeserializer.class.getName().equals(c.getValueDeserializer())) {
            unsafe.add("valueDeserializer must be " + ByteArrayDeserializer.class.getName()
                    + ": a deserializer that throws fails the poll instead of rejecting the record");
        }
        return unsafe;
    }
}
