package org.paia.dispatcher.security;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jolokia.server.core.service.api.Restrictor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.actuate.autoconfigure.security.servlet.EndpointRequest;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint;
import org.springframework.security.web.authentication.www.BasicAuthenticationEntryPoint;
import org.springframework.security.web.csrf.CookieCsrfTokenRepository;
import org.springframework.security.web.csrf.CsrfTokenRequestAttributeHandler;
import org.springframework.security.web.util.matcher.AnyRequestMatcher;
import org.springframework.security.web.util.matcher.MediaTypeRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;

/**
 * Spring Security in front of every web endpoint: health (the probes) stays open, Prometheus is
 * open or needs a login ({@code paia.security.prometheus-public}), everything else — Hawtio, Jolokia,
 * the other actuator endpoints — needs a configured {@code viewer} or {@code admin}. Browsers get a
 * login form, API clients (Jolokia, curl) HTTP Basic and a 401. The role split on JMX is the
 * {@link RoleRestrictor}. With {@code paia.security.enabled=false} (the local profile) all is open.
 */
@Configuration(proxyBeanMethods = false)
public class WebSecurityConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(WebSecurityConfiguration.class);

    /** The realm of the 401's {@code WWW-Authenticate}; also Hawtio's realm ({@code hawtio.realm}). */
    static final String REALM = "paia-dispatcher";

    /** Hash formats that Spring's delegating encoder verifies with what is on the classpath. Never {noop}. */
    private static final Set<String> HASH_ALGORITHMS = Set.of("bcrypt", "pbkdf2", "pbkdf2@SpringSecurity_v5_8");
    private static final Pattern HASH = Pattern.compile("\\{([^}]*)}(.+)");
    private static final Pattern USER_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*");

    @Bean
    SecurityFilterChain webSecurity(HttpSecurity http, WebSecurityProperties properties,
                                    @Value("${management.endpoints.web.base-path:/actuator}") String actuatorPath)
            throws Exception {
        if (!properties.isEnabled()) {
            LOG.warn("paia.security.enabled=false: Hawtio, Jolokia and the actuator endpoints need no login");
            return http.authorizeHttpRequests(requests -> requests.anyRequest().permitAll())
                    .csrf(AbstractHttpConfigurer::disable)
                    .build();
        }
        CookieCsrfTokenRepository csrfTokens = CookieCsrfTokenRepository.withHttpOnlyFalse();
        csrfTokens.setCookieCustomizer(cookie -> cookie.sameSite("Strict"));
        // Hawtio's page sends the XSRF-TOKEN cookie back as the X-XSRF-TOKEN header, unmasked; a null
        // attribute name loads the token on every request, so that the cookie is always there.
        CsrfTokenRequestAttributeHandler csrfHandler = new CsrfTokenRequestAttributeHandler();
        csrfHandler.setCsrfRequestAttributeName(null);
        return http
                .authorizeHttpRequests(requests -> {
                    requests.requestMatchers(EndpointRequest.to("health")).permitAll();
                    if (properties.isPrometheusPublic()) {
                        requests.requestMatchers(EndpointRequest.to("prometheus")).permitAll();
                    }
                    requests.requestMatchers("/error").permitAll();
                    requests.anyRequest().hasAnyRole(Role.VIEWER.roleName(), Role.ADMIN.roleName());
                })
                .formLogin(form -> form.defaultSuccessUrl(actuatorPath + "/hawtio/", false).permitAll())
                .httpBasic(basic -> basic.realmName(REALM))
                // entry points added this way, not set as "the" entry point, which would turn off the login page
                .exceptionHandling(errors -> errors
                        .defaultAuthenticationEntryPointFor(new LoginUrlAuthenticationEntryPoint("/login"), browserPage())
                        .defaultAuthenticationEntryPointFor(basicEntryPoint(), AnyRequestMatcher.INSTANCE))
                .csrf(csrf -> csrf.csrfTokenRepository(csrfTokens)
                        .csrfTokenRequestHandler(csrfHandler)
                        // a request that carries its credentials cannot be forged by another site's page
                        .ignoringRequestMatchers(request -> request.getHeader(HttpHeaders.AUTHORIZATION) != null))
                .build();
    }

    /** A browser navigating to a page (it accepts HTML) goes to the login form; any other client gets 401. */
    private static RequestMatcher browserPage() {
        MediaTypeRequestMatcher browserPage = new MediaTypeRequestMatcher(MediaType.TEXT_HTML);
        browserPage.setIgnoredMediaTypes(Set.of(MediaType.ALL));
        return browserPage;
    }

    private static AuthenticationEntryPoint basicEntryPoint() {
        BasicAuthenticationEntryPoint basic = new BasicAuthenticationEntryPoint();
        basic.setRealmName(REALM);
        return basic;
    }

    /** The configured users; also replaces Spring Boot's default user, whose generated password it would log. */
    @Bean
    UserDetailsService users(WebSecurityProperties properties) {
        List<UserDetails> users = new ArrayList<>();
        properties.getUsers().forEach((name, user) -> users.add(User.withUsername(checkedName(name))
                .password(checkedHash(name, user.getPasswordHash()))
                .roles(user.getRoles().stream().map(Role::roleName).toArray(String[]::new))
                .build()));
        if (properties.isEnabled() && users.isEmpty()) {
            LOG.warn("paia.security.users is empty: nobody can log in to Hawtio, Jolokia or the protected "
                    + "actuator endpoints (see docs/operate.md, \"Hawtio and security\")");
        }
        return new InMemoryUserDetailsManager(users);
    }

    /** Jolokia takes a {@link Restrictor} bean from the context (jolokia-support-springboot3). */
    @Bean
    @ConditionalOnProperty(name = "paia.security.enabled", havingValue = "true", matchIfMissing = true)
    Restrictor jolokiaRoleRestrictor() {
        return new RoleRestrictor();
    }

    static String checkedName(String name) {
        if (!USER_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("paia.security.users." + name
                    + ": a user name is lower case letters, digits, '.', '_' or '-'");
        }
        return name;
    }

    static String checkedHash(String name, String hash) {
        Matcher matcher = HASH.matcher(hash == null ? "" : hash.trim());
        if (!matcher.matches() || !HASH_ALGORITHMS.contains(matcher.group(1))) {
            // the value itself is never echoed: it may be a password pasted by mistake
            throw new IllegalArgumentException("paia.security.users." + name + ".password-hash must be a "
                    + "password hash with its algorithm, one of " + HASH_ALGORITHMS
                    + " — e.g. {bcrypt}$2a$10$... (plain text and {noop} are refused)");
        }
        return matcher.group(0);
    }
}
