package org.paia.dispatcher.routes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.ServiceStatus;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.PluginHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.paia.dispatcher.support.CapturedLogs;

/**
 * Live route editing as the dispatcher does it with {@code paia.routes-dir}: YAML routes loaded from
 * a directory ({@link RoutesDirectory}'s include pattern), changes applied by
 * {@link RoutesDirectoryWatcher} through Camel's reload strategy, in a running CamelContext.
 */
class RoutesReloadTest {

    @TempDir
    Path dir;
    private CamelContext camel;
    private RoutesDirectoryWatcher watcher;
    private ProducerTemplate producer;

    @BeforeEach
    void start() throws Exception {
        write("greeting.yaml", greeting("hello v1"));
        write("other.yaml", """
                - route:
                    id: other
                    from:
                      uri: direct:other
                      steps:
                        - setBody:
                            constant: "other"
                """);
        camel = new DefaultCamelContext();
        camel.build();
        // what camel-main does with camel.main.routes-include-pattern, as RoutesDirectory sets it
        PluginHelper.getRoutesLoader(camel).loadRoutes(PluginHelper.getPackageScanResourceResolver(camel)
                .findResources("file:" + RoutesDirectory.validated(dir.toString()) + "/*.yaml"));
        watcher = new RoutesDirectoryWatcher(dir, Duration.ofMillis(200));
        camel.addService(watcher);
        camel.start();
        producer = camel.createProducerTemplate();
    }

    @AfterEach
    void stop() {
        camel.stop();
    }

    @Test
    void anEditedRouteTakesEffectWithoutARestartAndABrokenOneIsReportedWhileTheRoutesKeepRunning() throws Exception {
        assertThat(producer.requestBody("direct:greet", "", String.class)).isEqualTo("hello v1");

        write("greeting.yaml", greeting("hello v2"));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> "hello v2".equals(producer.requestBody("direct:greet", "", String.class)));
        assertThat(producer.requestBody("direct:other", "", String.class)).isEqualTo("other");
        // the new route serves as soon as Camel has swapped it in, a moment before the watcher counts it
        await().atMost(Duration.ofSeconds(10)).until(() -> watcher.reloadedCount() == 1);
        assertThat(watcher.lastError()).isNull();

        // not YAML at all
        write("greeting.yaml", "- route:\n    id: greeting\n    from: [unclosed\n");
        await().atMost(Duration.ofSeconds(30)).until(() -> watcher.failedCount() == 1);
        assertThat(watcher.lastError()).startsWith("greeting.yaml: ");
        assertThat(CapturedLogs.events()).anyMatch(e -> e.contains("ERROR")
                && e.contains("Route file greeting.yaml NOT applied, the running routes are unchanged"));
        assertRunning();

        // valid YAML, but a step that does not exist
        write("greeting.yaml", greeting("hello v3").replace("setBody:", "setBodyy:"));
        await().atMost(Duration.ofSeconds(30)).until(() -> watcher.failedCount() == 2);
        assertThat(watcher.lastError()).startsWith("greeting.yaml: ").contains("setBodyy");
        assertRunning();

        // fixed: applied, and the error is cleared
        write("greeting.yaml", greeting("hello v4"));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> "hello v4".equals(producer.requestBody("direct:greet", "", String.class)));
        await().atMost(Duration.ofSeconds(10)).until(() -> watcher.reloadedCount() == 2);
        assertThat(watcher.lastError()).isNull();
        assertThat(camel.getRouteController().getRouteStatus("other")).isEqualTo(ServiceStatus.Started);
    }

    /**
     * A ConfigMap volume: the files are symlinks through {@code ..data}, itself a symlink to a
     * timestamped directory; an update writes a new directory and swaps {@code ..data} atomically.
     */
    @Test
    void aConfigMapStyleUpdateIsPickedUp() throws Exception {
        Path volume = Files.createDirectory(dir.resolve("configmap"));
        Path first = Files.createDirectory(volume.resolve("..2026_11_23_10_00_00.1"));
        Files.writeString(first.resolve("mapped.yaml"), greeting("mapped v1").replace("greet", "mapped")
                .replace("id: greeting", "id: mapped"));
        Files.createSymbolicLink(volume.resolve("..data"), first.getFileName());
        Files.createSymbolicLink(volume.resolve("mapped.yaml"), Path.of("..data/mapped.yaml"));
        PluginHelper.getRoutesLoader(camel).loadRoutes(PluginHelper.getPackageScanResourceResolver(camel)
                .findResources("file:" + RoutesDirectory.validated(volume.toString()) + "/*.yaml"));
        RoutesDirectoryWatcher mapped = new RoutesDirectoryWatcher(volume, Duration.ofMillis(200));
        camel.addService(mapped);
        assertThat(producer.requestBody("direct:mapped", "", String.class)).isEqualTo("mapped v1");

        Path second = Files.createDirectory(volume.resolve("..2026_11_23_10_05_00.2"));
        Files.writeString(second.resolve("mapped.yaml"), greeting("mapped v2").replace("greet", "mapped")
                .replace("id: greeting", "id: mapped"));
        Files.createSymbolicLink(volume.resolve("..data_tmp"), second.getFileName());
        Files.move(volume.resolve("..data_tmp"), volume.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);

        await().atMost(Duration.ofSeconds(30))
                .until(() -> "mapped v2".equals(producer.requestBody("direct:mapped", "", String.class)));
        await().atMost(Duration.ofSeconds(10)).until(() -> mapped.reloadedCount() == 1);
    }

    @Test
    void aDirectoryWithoutRoutesIsRejectedClearly() throws Exception {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RoutesDirectory.validated(empty.toString()))
                .hasMessage("paia.routes-dir=" + empty + ": holds no *.yaml route file");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RoutesDirectory.validated(dir.resolve("nope").toString()))
                .hasMessageEndingWith(": not a directory");
    }

    @Test
    void theRoutesDirPropertySwitchesCamelFromTheClasspathToTheDirectory() {
        org.springframework.core.env.StandardEnvironment environment = new org.springframework.core.env.StandardEnvironment();
        new RoutesDirectory().postProcessEnvironment(environment, null);
        assertThat(environment.getProperty("camel.main.routes-include-pattern")).isNull(); // application.yaml's classpath default

        environment.getPropertySources().addLast(new org.springframework.core.env.MapPropertySource("test",
                java.util.Map.of(RoutesDirectory.PROPERTY, dir.toString())));
        new RoutesDirectory().postProcessEnvironment(environment, null);
        assertThat(environment.getProperty("camel.main.routes-include-pattern")).isEqualTo("file:" + dir + "/*.yaml");
    }

    /** The routes of both files still run, the greeting one with its last good version. */
    private void assertRunning() {
        assertThat(camel.getRouteController().getRouteStatus("greeting")).isEqualTo(ServiceStatus.Started);
        assertThat(camel.getRouteController().getRouteStatus("other")).isEqualTo(ServiceStatus.Started);
        assertThat(producer.requestBody("direct:greet", "", String.class)).isEqualTo("hello v2");
        assertThat(producer.requestBody("direct:other", "", String.class)).isEqualTo("other");
    }

    private static String greeting(String text) {
        return """
                - route:
                    id: greeting
                    from:
                      uri: direct:greet
                      steps:
                        - setBody:
                            constant: "%s"
                """.formatted(text);
    }

    /** Writes a file the way a ConfigMap update does: complete, in one rename. */
    private void write(String name, String content) throws Exception {
        Path tmp = dir.resolve("." + name + ".tmp");
        Files.writeString(tmp, content);
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
