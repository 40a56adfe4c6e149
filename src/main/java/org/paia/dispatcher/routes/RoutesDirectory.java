package org.paia.dispatcher.routes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * {@code paia.routes-dir}: load the YAML routes from a directory (a mounted ConfigMap) instead of the
 * classpath, and re-apply a route file when it changes ({@link RoutesDirectoryWatcher}). Unset, the
 * routes come from the jar's {@code classpath:routes/*.yaml}.
 */
public class RoutesDirectory implements EnvironmentPostProcessor {

    public static final String PROPERTY = "paia.routes-dir";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        String dir = environment.getProperty(PROPERTY);
        if (dir == null || dir.isBlank()) {
            return;
        }
        Path path = validated(dir);
        environment.getPropertySources().addFirst(new MapPropertySource("paia-routes-dir", Map.of(
                "camel.main.routes-include-pattern", "file:" + path + "/*.yaml")));
    }

    /** The directory, absolute, after checking that it exists and holds at least one {@code *.yaml} file. */
    public static Path validated(String dir) {
        Path path = Path.of(dir).toAbsolutePath().normalize();
        if (!Files.isDirectory(path)) {
            throw new IllegalStateException(PROPERTY + "=" + dir + ": not a directory");
        }
        if (yamlFiles(path).isEmpty()) {
            throw new IllegalStateException(PROPERTY + "=" + dir + ": holds no *.yaml route file");
        }
        return path;
    }

    /** The directory's {@code *.yaml} files (ConfigMap entries are symlinks: followed), sorted. */
    static List<Path> yamlFiles(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".yaml") && !f.getFileName().toString().startsWith(".")
                    && Files.isRegularFile(f)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the routes directory " + dir, e);
        }
    }
}
