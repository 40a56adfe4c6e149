package org.paia.dispatcher.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.apache.camel.component.kafka.KafkaEndpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.PluginHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paia.dispatcher.kafka.TransactionalCommitFactory;
import org.paia.dispatcher.routes.RoutesDirectoryWatcher;

/**
 * The intake's exactly-once settings cannot be edited away: a route file whose consumer of the task topic
 * would auto-commit, read uncommitted records, let Camel commit, skip records, or hand over tasks one by one
 * instead of as the batches {@code paia-tx:intake} commits is refused — at start-up,
 * and on a live reload, where the running route stays and the reload's error (the {@code routesReload}
 * health indicator) says which setting and why.
 */
class IntakeGuardTest {

    private static final String TOPIC = "paia.game.tasks";

    @TempDir
    Path dir;
    private CamelContext camel;

    @AfterEach
    void stop() {
        if (camel != null) {
            camel.stop();
        }
    }

    private CamelContext context() {
        CamelContext context = new DefaultCamelContext();
        context.getRegistry().bind("transactionalCommitFactory", new TransactionalCommitFactory());
        context.getCamelContextExtension().registerEndpointCallback(new IntakeGuard(TOPIC));
        return context;
    }

    @Test
    void aReloadedIntakeThatWouldEndExactlyOnceIsRefusedAndTheRunningOneStays() throws Exception {
        write(intake(SAFE));
        camel = context();
        camel.build();
        PluginHelper.getRoutesLoader(camel).loadRoutes(PluginHelper.getPackageScanResourceResolver(camel)
                .findResources("file:" + dir + "/*.yaml"));
        RoutesDirectoryWatcher watcher = new RoutesDirectoryWatcher(dir, Duration.ofMillis(200),
                java.util.List.of(new IntakeGuard(TOPIC)));
        camel.addService(watcher);
        camel.start();
        assertThat(camel.getRouteController().getRouteStatus("task-intake")).isEqualTo(ServiceStatus.Started);

        write(intake(SAFE.replace("autoCommitEnable: false", "autoCommitEnable: true")));
        await().atMost(Duration.ofSeconds(30)).until(() -> watcher.failedCount() == 1);
        assertThat(watcher.lastError()).contains("intake.yaml")
                .contains("autoCommitEnable must be false (offsets are committed in the intake's transaction only)");
        assertRunningSafely();

        write(intake(SAFE.replace("        isolationLevel: read_committed\n", "")));
        await().atMost(Duration.ofSeconds(30)).until(() -> watcher.failedCount() == 2);
        assertThat(watcher.lastError()).contains("isolationLevel must be read_committed (was null)");
        assertRunningSafely();

        write(intake(SAFE.replace("pollOnError: RECONNECT", "pollOnError: ERROR_HANDLER")));
        await().atMost(Duration.ofSeconds(30)).until(() -> watcher.failedCount() == 3);
        assertThat(watcher.lastError()).contains("pollOnError must be RECONNECT");
        assertRunningSafely();

        write(intake(SAFE.replace("batching: true", "batching: false")));
        await().atMost(Duration.ofSeconds(30)).until(() -> watcher.failedCount() == 4);
        assertThat(watcher.lastError()).contains("batching must be true");
        assertRunningSafely();
    }

    @Test
    void anIntakeThatWouldEndExactlyOnceDoesNotStart() throws Exception {
        write(intake(SAFE.replace("        allowManualCommit: true\n", "")));
        camel = context();
        camel.build();
        assertThatThrownBy(() -> {
            PluginHelper.getRoutesLoader(camel).loadRoutes(PluginHelper
                    .getPackageScanResourceResolver(camel).findResources("file:" + dir + "/*.yaml"));
            camel.start();
        })
                .hasStackTraceContaining("would end exactly-once, refused")
                .hasStackTraceContaining("allowManualCommit must be true with kafkaManualCommitFactory=#transactionalCommitFactory");
    }

    private void assertRunningSafely() {
        assertThat(camel.getRouteController().getRouteStatus("task-intake")).isEqualTo(ServiceStatus.Started);
        KafkaEndpoint endpoint = (KafkaEndpoint) camel.getRoute("task-intake").getEndpoint();
        assertThat(IntakeGuard.unsafeSettings(endpoint)).isEmpty();
    }

    /** The consumer's settings as intake.yaml has them (the broker is never reached: the route consumes nothing here). */
    private static final String SAFE = """
                brokers: 127.0.0.1:1
                groupId: paia-dispatcher
                autoCommitEnable: false
                allowManualCommit: true
                kafkaManualCommitFactory: "#transactionalCommitFactory"
                isolationLevel: read_committed
                pollOnError: RECONNECT
                breakOnFirstError: true
                batching: true
                valueDeserializer: org.apache.kafka.common.serialization.ByteArrayDeserializer
        """;

    private static String intake(String parameters) {
        return """
                - route:
                    id: task-intake
                    from:
                      uri: kafka:%s
                      parameters:
                %s      steps:
                        - log: "${body}"
                """.formatted(TOPIC, parameters.replace("        ", "        "));
    }

    private void write(String content) throws Exception {
        Path tmp = dir.resolve(".intake.yaml.tmp");
        Files.writeString(tmp, content);
        Files.move(tmp, dir.resolve("intake.yaml"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
