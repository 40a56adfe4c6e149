package org.paia.dispatcher.security;

import java.util.List;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The role split's decisions and the users' validation, without a server. */
class RoleRestrictorTest {

    private final RoleRestrictor restrictor = new RoleRestrictor();
    private final ObjectName route = name("org.apache.camel:context=paia-dispatcher,type=routes,name=\"task-intake\"");

    @AfterEach
    void logout() {
        SecurityContextHolder.clearContext();
    }

    @Test
    void viewerReadsAndRunsOnlyReadOnlyOperations() {
        login(Role.VIEWER);

        assertThat(restrictor.isAttributeReadAllowed(route, "ExchangesTotal")).isTrue();
        assertThat(restrictor.isOperationAllowed(route, "dumpRouteAsXml()")).isTrue();
        assertThat(restrictor.isOperationAllowed(route, "getRouteId")).isTrue();
        assertThat(restrictor.isOperationAllowed(name("hawtio:type=security,name=RBACRegistry"), "list()")).isTrue();
        assertThat(restrictor.isOperationAllowed(route, "stop()")).isFalse();
        assertThat(restrictor.isOperationAllowed(route, "stop(long)")).isFalse();
        assertThat(restrictor.isOperationAllowed(route, "suspend")).isFalse();
        assertThat(restrictor.isOperationAllowed(route, "reset(boolean)")).isFalse();
        assertThat(restrictor.isOperationAllowed(route, "issue()")).as("a prefix needs a word boundary").isFalse();
        assertThat(restrictor.isAttributeWriteAllowed(route, "Tracing")).isFalse();
        assertThat(restrictor.isOperationAllowed(name("com.sun.management:type=HotSpotDiagnostic"),
                "dumpHeap(java.lang.String,boolean)")).as("writes a file").isFalse();
    }

    @Test
    void adminMayDoEverything() {
        login(Role.ADMIN);

        assertThat(restrictor.isAttributeReadAllowed(route, "ExchangesTotal")).isTrue();
        assertThat(restrictor.isOperationAllowed(route, "stop()")).isTrue();
        assertThat(restrictor.isAttributeWriteAllowed(route, "Tracing")).isTrue();
    }

    @Test
    void withoutALoginNothingIsAllowed() {
        assertThat(restrictor.isAttributeReadAllowed(route, "ExchangesTotal")).isFalse();
        assertThat(restrictor.isOperationAllowed(route, "dumpRouteAsXml()")).isFalse();
    }

    @Test
    void usersNeedAHashedPasswordAndASimpleName() {
        assertThat(WebSecurityConfiguration.checkedHash("ops", "{bcrypt}$2a$04$abc")).isEqualTo("{bcrypt}$2a$04$abc");
        assertThatThrownBy(() -> WebSecurityConfiguration.checkedHash("ops", "{noop}secret"))
                .hasMessageContaining("paia.security.users.ops.password-hash").hasMessageNotContaining("secret");
        assertThatThrownBy(() -> WebSecurityConfiguration.checkedHash("ops", "hunter2"))
                .hasMessageContaining("plain text").hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> WebSecurityConfiguration.checkedHash("ops", null)).hasMessageContaining("{bcrypt}");
        assertThatThrownBy(() -> WebSecurityConfiguration.checkedName("Ops Team")).hasMessageContaining("lower case");
    }

    private static void login(Role role) {
        SecurityContextHolder.getContext().setAuthentication(UsernamePasswordAuthenticationToken.authenticated(
                role.roleName(), null, List.of(new SimpleGrantedAuthority(role.authority()))));
    }

    private static ObjectName name(String name) {
        try {
            return new ObjectName(name);
        } catch (Exception e) {
            throw new IllegalArgumentException(name, e);
        }
    }
}
