package org.paia.dispatcher.routes;

import java.time.Duration;
import org.apache.camel.CamelContext;
import org.apache.camel.spring.boot.CamelContextConfiguration;
import java.util.List;
import org.paia.dispatcher.intake.IntakeGuard;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * With {@code paia.routes-dir} set: routes come from that directory ({@link RoutesDirectory}) and a
 * changed file is re-applied while the dispatcher runs ({@link RoutesDirectoryWatcher}).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = RoutesDirectory.PROPERTY)
public class RoutesReloadConfiguration {

    @Bean
    RoutesDirectoryWatcher routesDirectoryWatcher(@Value("${" + RoutesDirectory.PROPERTY + "}") String dir,
                                                  @Value("${paia.routes-reload-interval:5s}") Duration interval,
                                                  @Value("${paia.kafka.task-topic}") String taskTopic) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("paia.routes-reload-interval must be positive, was " + interval);
        }
        // An edit that would end the intake's exactly-once is refused before Camel removes the running route.
        return new RoutesDirectoryWatcher(RoutesDirectory.validated(dir), interval, List.of(new IntakeGuard(taskTopic)));
    }

    @Bean
    CamelContextConfiguration routesDirectoryWatcherService(RoutesDirectoryWatcher watcher) {
        return new CamelContextConfiguration() {
            @Override
            public void beforeApplicationStart(CamelContext camelContext) {
                try {
                    camelContext.addService(watcher);
                } catch (Exception e) {
                    throw new IllegalStateException("cannot start watching " + RoutesDirectory.PROPERTY, e);
                }
            }

            @Override
            public void afterApplicationStart(CamelContext camelContext) {
                // nothing
            }
        };
    }

    /**
     * {@code routesReload} in {@code /actuator/health}: DOWN while the last edited route file could
     * not be applied. In no probe group: the previous routes keep running, a restart would not help.
     */
    @Bean
    HealthIndicator routesReloadHealthIndicator(RoutesDirectoryWatcher watcher) {
        return () -> {
            String error = watcher.lastError();
            Health.Builder health = error == null ? Health.up() : Health.down().withDetail("lastError", error);
            return health.withDetail("reloaded", watcher.reloadedCount()).withDetail("failed", watcher.failedCount())
                    .build();
        };
    }
}
