package org.paia.dispatcher.security;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * {@code paia.security.*}: who may use Hawtio, Jolokia and the other actuator endpoints. Users come
 * from configuration with password <em>hashes</em> only (supplied through the environment from a
 * Secret); health stays open for the probes.
 */
@Validated
@ConfigurationProperties(prefix = "paia.security")
public class WebSecurityProperties {

    /** Authentication on the web endpoints; only the local profile turns it off. */
    private boolean enabled = true;
    /** {@code /actuator/prometheus} without authentication (for an in-cluster scraper); else any user. */
    private boolean prometheusPublic = true;
    /** User name (lower case: names from environment variables arrive lower-cased) → hash and roles. */
    @Valid
    private Map<String, User> users = new LinkedHashMap<>();

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public boolean isPrometheusPublic() {
        return prometheusPublic;
    }

    public void setPrometheusPublic(boolean prometheusPublic) {
        this.prometheusPublic = prometheusPublic;
    }

    public Map<String, User> getUsers() {
        return users;
    }

    public void setUsers(Map<String, User> users) {
        this.users = users;
    }

    public static class User {

        /** A Spring Security password hash with its algorithm prefix, e.g. {@code {bcrypt}$2a$10$...}. */
        @NotBlank
        private String passwordHash;
        @NotEmpty
        private Set<Role> roles = new LinkedHashSet<>();

        public String getPasswordHash() {
            return passwordHash;
        }

        public void setPasswordHash(String passwordHash) {
            this.passwordHash = passwordHash;
        }

        public Set<Role> getRoles() {
            return roles;
        }

        public void setRoles(Set<Role> roles) {
            this.roles = roles;
        }
    }
}
