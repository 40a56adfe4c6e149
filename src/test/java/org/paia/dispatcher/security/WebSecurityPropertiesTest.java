package org.paia.dispatcher.security;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/** The environment variables the README tells operators to put in the Secret bind to users and roles. */
class WebSecurityPropertiesTest {

    @Test
    void usersBindFromTheDocumentedEnvironmentVariables() {
        StandardEnvironment environment = new StandardEnvironment();
        // the process environment, as a Secret's envFrom fills it
        environment.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, Map.of(
                "PAIA_SECURITY_USERS_OPS_PASSWORDHASH", "{bcrypt}$2y$10$hash",
                "PAIA_SECURITY_USERS_OPS_ROLES", "admin",
                "PAIA_SECURITY_USERS_GRAFANA_PASSWORDHASH", "{bcrypt}$2y$10$other",
                "PAIA_SECURITY_USERS_GRAFANA_ROLES", "viewer")));

        WebSecurityProperties properties = new Binder(ConfigurationPropertySources.get(environment))
                .bind("paia.security", WebSecurityProperties.class).get();

        assertThat(properties.getUsers()).containsOnlyKeys("ops", "grafana");
        assertThat(properties.getUsers().get("ops").getPasswordHash()).isEqualTo("{bcrypt}$2y$10$hash");
        assertThat(properties.getUsers().get("ops").getRoles()).containsExactly(Role.ADMIN);
        assertThat(properties.getUsers().get("grafana").getRoles()).containsExactly(Role.VIEWER);
        assertThat(properties.isEnabled()).isTrue();
    }
}
