package org.paia.dispatcher.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.paia.dispatcher.support.PrometheusScrape;

import static org.awaitility.Awaitility.await;

/**
 * The dispatcher as its own JVM — the built jar in the cluster profile, pointed at the test's
 * servers — so that a test can kill it for real ({@code kill -9}).
 */
final class DispatcherProcess {

    private final String replicaId;
    private final Path log;
    private final Process process;
    private final int httpPort;
    /** Where the log stood when {@link #stop()} sent SIGTERM; -1 before. */
    private volatile int stoppedAt = -1;

    private DispatcherProcess(String replicaId, Path log, Process process, int httpPort) {
        this.replicaId = replicaId;
        this.log = log;
        this.process = process;
        this.httpPort = httpPort;
    }

    static DispatcherProcess start(ChaosCluster cluster, String replicaId, int run, String... extraArgs) throws IOException {
        return start(cluster, replicaId, run, null, List.of(), extraArgs);
    }

    /**
     * With {@code extraClasses} (a directory), the jar runs through Spring Boot's PropertiesLauncher
     * with that directory on its class path ({@code loader.path}), e.g. for a Kafka client interceptor.
     */
    static DispatcherProcess start(ChaosCluster cluster, String replicaId, int run, Path extraClasses,
                                   List<String> jvmOptions, String... extraArgs) throws IOException {
        Path dir = cluster.dir().resolve("dispatchers");
        Files.createDirectories(dir.resolve("tmp"));
        Path log = dir.resolve(replicaId + "-" + run + ".log");
        // A known port (actuator included), so that a test can scrape /actuator/prometheus.
        int httpPort = ChaosCluster.freePort();
        List<String> command = new ArrayList<>(List.of(ChaosCluster.java(), "-Xmx512m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Djava.io.tmpdir=" + dir.resolve("tmp")));
        command.addAll(jvmOptions);
        if (extraClasses == null) {
            command.addAll(List.of("-jar", ChaosCluster.dispatcherJar().toString()));
        } else {
            command.addAll(List.of("-Dloader.path=" + extraClasses, "-cp", ChaosCluster.dispatcherJar().toString(),
                    "org.springframework.boot.loader.launch.PropertiesLauncher"));
        }
        command.addAll(List.of(
                "--spring.profiles.active=cluster",
                "--server.port=" + httpPort,
                "--paia.kafka.bootstrap-servers=" + cluster.bootstrapServers(),
                "--paia.kafka.replica-id=" + replicaId,
                "--paia.kubernetes.master-url=" + cluster.kubernetesUrl(),
                "--paia.workspace=" + cluster.workspace(),
                "--paia.kubernetes.relist-interval=1s",
                "--paia.kubernetes.leader-election.lease-duration=3s",
                "--paia.kubernetes.leader-election.renew-deadline=2s",
                "--paia.kubernetes.leader-election.retry-period=300ms",
                "--paia.scheduler.tick=100",
                "--paia.retry.max-redeliveries=2",
                "--paia.retry.initial-delay-ms=100",
                "--paia.retry.max-delay-ms=500",
                "--logging.level.root=WARN",
                "--logging.level.org.paia=INFO"));
        command.addAll(List.of(extraArgs));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        // The storage key goes through the environment, as a Secret would, never on the command line.
        builder.environment().putAll(Map.of("PAIA_STORAGE_CONNECTION_STRING", cluster.storageConnectionString()));
        return new DispatcherProcess(replicaId, log, builder.start(), httpPort);
    }

    String replicaId() {
        return replicaId;
    }

    DispatcherProcess awaitStarted() {
        try {
            // generous: on a loaded 2-core machine, two replicas starting together took 160 s
            await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (!process.isAlive()) {
                    throw new AssertionError(replicaId + " exited with " + process.exitValue() + ":\n" + tail(40));
                }
                return logText().contains("Started DispatcherApplication");
            });
        } catch (RuntimeException | AssertionError e) {
            process.destroyForcibly(); // never leave a dispatcher running after a failed test
            throw e;
        }
        return this;
    }

    /** GET on the dispatcher's own HTTP port (actuator endpoints); the body, or an error for a non-2xx. */
    String get(String path) throws IOException, InterruptedException {
        java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + httpPort + path))
                        .timeout(Duration.ofSeconds(10)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IOException("GET " + path + " answered " + response.statusCode());
        }
        return response.body();
    }

    /** The dispatcher's {@code /actuator/prometheus}, parsed. */
    PrometheusScrape scrape() throws IOException, InterruptedException {
        return PrometheusScrape.parse(get("/actuator/prometheus"));
    }

    boolean logContains(String text) {
        return logText().contains(text);
    }

    /** How many times the log holds {@code text}. */
    int logCount(String text) {
        String log = logText();
        int count = 0;
        for (int at = log.indexOf(text); at >= 0; at = log.indexOf(text, at + 1)) {
            count++;
        }
        return count;
    }

    /** Where {@code text} first appears in the log, or -1. */
    int logIndexOf(String text) {
        return logText().indexOf(text);
    }

    /**
     * Probes {@code /actuator/health/liveness} as kubelet would — every 500 ms, a 1 s timeout — until
     * closed; every probe that times out or is not UP is added to {@code failures}.
     */
    AutoCloseable probeLiveness(List<String> failures) {
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        java.util.concurrent.ScheduledExecutorService probes = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        probes.scheduleAtFixedRate(() -> {
            long started = System.nanoTime();
            try {
                java.net.http.HttpResponse<String> response = client.send(java.net.http.HttpRequest.newBuilder(
                                java.net.URI.create("http://127.0.0.1:" + httpPort + "/actuator/health/liveness"))
                        .timeout(Duration.ofSeconds(1)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() != 200 || !response.body().contains("\"UP\"")) {
                    failures.add(response.statusCode() + " " + response.body());
                }
            } catch (IOException | InterruptedException e) {
                failures.add(e + " after " + (System.nanoTime() - started) / 1_000_000 + " ms");
            }
        }, 0, 500, TimeUnit.MILLISECONDS);
        return () -> {
            // no interrupt: a probe in flight answers (shutdownNow's interrupt was once counted as a failed probe)
            probes.shutdown();
            probes.awaitTermination(5, TimeUnit.SECONDS);
        };
    }

    /**
     * After {@link #stop()}: the dispatcher shut down without an ERROR line, a RejectedExecutionException or a
     * step of a route that was already stopped (issue 11: a flood of them on every SIGTERM).
     */
    void assertCleanShutdown() {
        String log = logText();
        String shutdown = stoppedAt < 0 || stoppedAt > log.length() ? "" : log.substring(stoppedAt);
        List<String> noisy = shutdown.lines().filter(line -> line.contains(" ERROR ")
                || line.contains("RejectedExecutionException") || line.contains("has not been started")).toList();
        org.assertj.core.api.Assertions.assertThat(noisy).as("%s's log lines after SIGTERM", replicaId).isEmpty();
    }

    /** kill -9: no shutdown hook, no flush, no goodbye. Returns the last thing it logged. */
    String kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        return lastStage();
    }

    void stop() throws InterruptedException {
        if (process.isAlive()) {
            stoppedAt = logText().length();
        }
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** What the dispatcher was doing last: the message of its last INFO/WARN line from our code. */
    String lastStage() {
        String[] lines = logText().split("\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            String line = lines[i];
            int at = line.indexOf(" : ");
            String logger = at > 0 ? line.substring(0, at) : "";
            if (logger.contains("paia.dispatcher") || logger.contains("o.p.d.")) {
                String message = line.substring(at + 3);
                return message.replaceAll("[0-9a-f]{8}-[0-9a-f-]{27,}", "<room>").replaceAll("\\d+", "N");
            }
        }
        return "starting";
    }

    String tail(int n) {
        String[] lines = logText().split("\n");
        return String.join("\n", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - n), lines.length));
    }

    private String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
