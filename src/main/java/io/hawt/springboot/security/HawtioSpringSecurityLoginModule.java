package io.hawt.springboot.security;

import io.hawt.web.auth.RolePrincipal;
import java.security.Principal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.security.auth.Subject;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.spi.LoginModule;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;

/**
 * Hands the Spring Security login's roles to Hawtio. hawtio-springboot 5.2.0 turns its Spring
 * Security integration on only when a class of exactly this name loads (see its
 * {@code SpringHawtioContextListener}), and configures it as the second JAAS module after Spring's
 * {@code SecurityContextLoginModule}; the module that ships it upstream, hawtio-springboot-security,
 * is not served by the Maven repository this build uses, so the dispatcher provides it: each granted
 * authority of the {@link Authentication} principal becomes a Hawtio {@link RolePrincipal} without
 * its {@code ROLE_} prefix, which Hawtio checks against {@code hawtio.roles}.
 */
public class HawtioSpringSecurityLoginModule implements LoginModule {

    private static final String SPRING_ROLE_PREFIX = "ROLE_";

    private Subject subject;
    private final List<Principal> added = new ArrayList<>();

    @Override
    public void initialize(Subject subject, CallbackHandler callbackHandler, Map<String, ?> sharedState,
                           Map<String, ?> options) {
        this.subject = subject;
    }

    /** Authenticates nothing itself: Spring Security already did, the module before this one checks that. */
    @Override
    public boolean login() {
        return true;
    }

    @Override
    public boolean commit() {
        for (Authentication authentication : List.copyOf(subject.getPrincipals(Authentication.class))) {
            for (GrantedAuthority granted : authentication.getAuthorities()) {
                String role = granted.getAuthority();
                if (role == null) {
                    continue;
                }
                if (role.startsWith(SPRING_ROLE_PREFIX)) {
                    role = role.substring(SPRING_ROLE_PREFIX.length());
                }
                RolePrincipal principal = new RolePrincipal(role);
                if (subject.getPrincipals().add(principal)) {
                    added.add(principal);
                }
            }
        }
        return true;
    }

    @Override
    public boolean abort() {
        return logout();
    }

    @Override
    public boolean logout() {
        subject.getPrincipals().removeAll(added);
        added.clear();
        return true;
    }
}
