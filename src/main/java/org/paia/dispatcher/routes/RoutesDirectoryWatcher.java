package org.paia.dispatcher.routes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.RouteWatcherReloadStrategy;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-applies a route file of {@code paia.routes-dir} when its content changes, with Camel's own
 * route reload ({@link RouteWatcherReloadStrategy}, as {@code camel.main.routes-reload-enabled}
 * sets up), replacing only the routes of that file (by route id); the other routes keep running.
 *
 * <p>Why not Camel's directory watcher: a ConfigMap volume is updated by swapping a {@code ..data}
 * symlink to a new directory; the route files themselves (symlinks through {@code ..data}) never see
 * a file event, and Camel's watcher skips directory events. So the files' contents are compared
 * every {@code interval} instead, following the symlinks; a plain directory works the same way.
 *
 * <p>A file that fails to load (broken YAML, an unknown step) is reported — an ERROR log naming the
 * file and the parser's message, {@link #lastError()} for the {@code routesReload} health
 * indicator — and the routes already running are left as they were. It is not tried again until
 * its content changes.
 */
public class RoutesDirectoryWatcher extends ServiceSupport implements CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(RoutesDirectoryWatcher.class);

    private final Path dir;
    private final Duration interval;
    private final Map<Path, String> digests = new ConcurrentHashMap<>();
    private final AtomicLong reloaded = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile String lastError;
    private CamelContext camelContext;
    private RouteWatcherReloadStrategy strategy;
    private ScheduledExecutorService executor;

    /** A check a changed route file must pass before it is applied (it throws, saying why, when it does not). */
    @FunctionalInterface
    public interface FileCheck {
        void check(CamelContext camel, Path file) throws Exception;
    }

    private final List<FileCheck> checks;

    public RoutesDirectoryWatcher(Path dir, Duration interval) {
        this(dir, interval, List.of());
    }

    public RoutesDirectoryWatcher(Path dir, Duration interval, List<FileCheck> checks) {
        this.dir = dir;
        this.interval = interval;
        this.checks = List.copyOf(checks);
    }

    @Override
    public CamelContext getCamelContext() {
        return camelContext;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.camelContext = camelContext;
    }

    @Override
    protected void doStart() throws Exception {
        // no folder: Camel's strategy does the reloading, this class the noticing
        strategy = new RouteWatcherReloadStrategy();
        strategy.setRemoveAllRoutes(false);
        camelContext.addService(strategy);
        for (Path file : RoutesDirectory.yamlFiles(dir)) {
            digests.put(file, digest(file));
        }
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "routes-dir-watcher");
            t.setDaemon(true);
            return t;
        });
        executor.scheduleWithFixedDelay(this::scan, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        LOG.info("Live route reloading from {} (checked every {} ms)", dir, interval.toMillis());
    }

    @Override
    protected void doStop() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    /** Compares every route file with what was last applied, and re-applies the changed ones. */
    void scan() {
        try {
            for (Path file : RoutesDirectory.yamlFiles(dir)) {
                String digest = digest(file);
                if (!digest.equals(digests.put(file, digest))) {
                    reload(file);
                }
            }
            digests.keySet().removeIf(file -> {
                boolean gone = !Files.isRegularFile(file);
                if (gone) {
                    LOG.warn("Route file {} was removed; its routes keep running until the next restart", file.getFileName());
                }
                return gone;
            });
        } catch (RuntimeException | IOException e) {
            LOG.warn("Cannot scan the routes directory {}: {}", dir, e.toString());
        }
    }

    private void reload(Path file) {
        String name = file.getFileName().toString();
        try {
            for (FileCheck check : checks) {
                check.check(camelContext, file); // before Camel's reload, which removes the running routes first
            }
            Resource resource = PluginHelper.getResourceLoader(camelContext).resolveResource("file:" + file);
            strategy.getResourceReload().onReload(file.toString(), resource);
            lastError = null;
            LOG.info("Route file {} reloaded", name);
            reloaded.incrementAndGet(); // last: a count seen means the error and the log are there
        } catch (Exception e) {
            Throwable cause = e;
            while (cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
            }
            lastError = name + ": " + cause.getMessage();
            LOG.error("Route file {} NOT applied, the running routes are unchanged: {}", name,
                    e.getMessage() + (cause != e ? " (" + cause.getMessage() + ")" : ""));
            failed.incrementAndGet();
        }
    }

    private static String digest(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The file and error of the last reload if it failed, else null. */
    public String lastError() {
        return lastError;
    }

    public long reloadedCount() {
        return reloaded.get();
    }

    public long failedCount() {
        return failed.get();
    }
}
