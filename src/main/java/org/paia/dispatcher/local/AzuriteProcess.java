package org.paia.dispatcher.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Azurite, Microsoft's Azure Storage emulator, as a child process: installed from the repo's
 * package-lock.json with {@code npm ci} when missing, started on loopback with its data on disk,
 * stopped with the JVM.
 */
public final class AzuriteProcess {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AzuriteProcess.class);

    /**
     * Runs its arguments in the background and stops them when stdin reaches its end (the parent is
     * gone); exits with their exit code when they end first. (A background job of a non-interactive
     * shell reads /dev/null, hence the copy of stdin on descriptor 3.)
     */
    private static final String EXIT_WITH_PARENT =
            "exec 3<&0; \"$@\" </dev/null & child=$!; (cat <&3 >/dev/null; kill $child 2>/dev/null) & wait $child";

    private volatile Process process;
    private final int port;
    private final Path npmDir;
    private final Path dir;

    private AzuriteProcess(Process process, int port, Path npmDir, Path dir) {
        this.process = process;
        this.port = port;
        this.npmDir = npmDir;
        this.dir = dir;
    }

    public int port() {
        return port;
    }

    /** The blob endpoint of the emulator's well-known account. */
    public String accountUrl() {
        return "http://127.0.0.1:" + port + "/" + LocalServers.AZURITE_ACCOUNT;
    }

    /** A connection string for the emulator's well-known account (its public development key). */
    public String connectionString() {
        return "DefaultEndpointsProtocol=http;AccountName=" + LocalServers.AZURITE_ACCOUNT + ";AccountKey="
                + LocalServers.AZURITE_KEY + ";BlobEndpoint=" + accountUrl() + ";";
    }

    /**
     * Starts Azurite, its data kept on disk under {@code dir} so that a restart (see {@link #resume()})
     * finds the blobs again.
     */
    public static AzuriteProcess start(Path npmDir, Path dir, int requestedPort) {
        try {
            Path bin = npmDir.resolve("node_modules/.bin/azurite-blob");
            if (!Files.isExecutable(bin)) {
                install(npmDir, dir);
            }
            int port = requestedPort > 0 ? requestedPort : freePort();
            if (isListening(port)) {
                throw new IllegalStateException("port " + port + " is already in use: is another dispatcher or "
                        + "Azurite running? (set paia.local.azurite-port)");
            }
            return new AzuriteProcess(launch(bin, dir, port), port, npmDir, dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start Azurite (is Node.js installed?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Stops Azurite until {@link #resume()}; requests meanwhile fail with "connection refused". */
    public void pause() {
        stop(process);
    }

    /** Starts Azurite again on the same port and data. */
    public void resume() {
        try {
            process = launch(npmDir.resolve("node_modules/.bin/azurite-blob"), dir, port);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restart Azurite", e);
        }
    }

    private static Process launch(Path bin, Path dir, int port) throws IOException {
        try {
            Files.createDirectories(dir.resolve("data"));
            // Through a shell that ends Azurite when its stdin — a pipe from this JVM — closes: that
            // happens however the JVM ends, kill -9 included, when no shutdown hook runs.
            Process process = new ProcessBuilder(List.of("sh", "-c", EXIT_WITH_PARENT, "azurite",
                    bin.toAbsolutePath().toString(),
                    "--location", dir.resolve("data").toString(), "--blobHost", "127.0.0.1",
                    "--blobPort", Integer.toString(port),
                    "--disableTelemetry", "--skipApiVersionCheck", "--loose"))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("azurite.log").toFile()))
                    .start();
            // After the application has stopped (Spring Boot runs these once its contexts are closed), so that
            // no upload in flight loses its storage during a graceful shutdown.
            org.springframework.boot.SpringApplication.getShutdownHandlers().add(() -> stop(process));
            Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
            while (!isListening(port)) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("Azurite exited with code " + process.exitValue() + "; see "
                            + dir.resolve("azurite.log"));
                }
                if (Instant.now().isAfter(deadline)) {
                    stop(process);
                    throw new IllegalStateException("Azurite did not listen on 127.0.0.1:" + port + " within 60 s");
                }
                TimeUnit.MILLISECONDS.sleep(100); // a process start has no event to wait on
            }
            return process;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs {@code npm ci}. Its output goes to a file, never to this process's stdout: under Maven
     * Surefire, bytes written straight to a forked JVM's stdout corrupt the test report stream.
     */
    private static void install(Path npmDir, Path dir) throws IOException, InterruptedException {
        if (!Files.isRegularFile(npmDir.resolve("package-lock.json"))) {
            throw new IllegalStateException("no package-lock.json in " + npmDir.toAbsolutePath()
                    + " (set paia.local.npm-dir to the repository root)");
        }
        Files.createDirectories(dir);
        Path log = dir.resolve("npm-ci.log");
        LOG.info("Installing Azurite with 'npm ci' in {} (output in {})", npmDir.toAbsolutePath(), log);
        Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund")
                .directory(npmDir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(log.toFile()).start();
        if (!npm.waitFor(10, TimeUnit.MINUTES) || npm.exitValue() != 0) {
            throw new IllegalStateException("'npm ci' failed in " + npmDir.toAbsolutePath()
                    + " while installing Azurite; see " + log);
        }
    }

    public void stop() {
        stop(process);
    }

    private static void stop(Process process) {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean isListening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
