package org.paia.dispatcher.routes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every route file validates against the Camel YAML DSL's JSON schema as shipped in camel-yaml-dsl 4.18, so
 * that Kaoto and the VS Code Camel tools open it (and a file that only loads thanks to Camel's leniency is
 * caught here, not in an editor). And application.yaml loads each of them.
 */
class RouteFilesSchemaTest {

    private static JsonSchema schema;

    @BeforeAll
    static void schema() throws IOException {
        try (InputStream in = RouteFilesSchemaTest.class.getClassLoader().getResourceAsStream("schema/camelYamlDsl.json")) {
            assertThat(in).as("camel-yaml-dsl's schema/camelYamlDsl.json on the class path").isNotNull();
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(in);
        }
    }

    /** The shipped route files and the documented examples. */
    static Stream<Path> routeFiles() throws IOException {
        return Stream.of("src/main/resources/routes", "docs/examples").flatMap(RouteFilesSchemaTest::yamlFiles);
    }

    private static Stream<Path> yamlFiles(String dir) {
        try (Stream<Path> files = Files.list(Path.of(dir))) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** application.yaml names each route file (no wildcard: Camel would scan every jar); none is left out. */
    @org.junit.jupiter.api.Test
    void theIncludePatternNamesEveryShippedRouteFile() throws IOException {
        JsonNode config = new ObjectMapper(new YAMLFactory()).readTree(Path.of("src/main/resources/application.yaml").toFile());
        String pattern = config.path("camel").path("main").path("routes-include-pattern").asText();
        assertThat(pattern).doesNotContain("*");
        assertThat(java.util.Arrays.stream(pattern.split(",")).map(String::trim).sorted().toList())
                .as("camel.main.routes-include-pattern in application.yaml")
                .isEqualTo(yamlFiles("src/main/resources/routes").map(f -> "classpath:routes/" + f.getFileName()).toList());
    }

    @ParameterizedTest
    @MethodSource("routeFiles")
    void validatesAgainstTheCamelYamlDslSchema(Path file) throws IOException {
        JsonNode routes = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        Set<ValidationMessage> errors = schema.validate(routes);
        assertThat(errors).as("%s against camel-yaml-dsl 4.18's schema", file.getFileName()).isEmpty();
    }
}
