package org.paia.dispatcher;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** Entry point: Spring Boot starts Camel, which loads the YAML routes under {@code routes/}. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class DispatcherApplication {

    public static void main(String[] args) {
        try {
            SpringApplication.run(DispatcherApplication.class, args);
        } catch (RuntimeException e) {
            // Spring has logged why; exit so that in-process servers (local mode) cannot keep a failed JVM alive.
            System.exit(1);
        }
    }
}
