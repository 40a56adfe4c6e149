package org.paia.dispatcher.security;

import java.util.Set;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import org.jolokia.server.core.service.api.Restrictor;
import org.jolokia.server.core.util.HttpMethod;
import org.jolokia.server.core.util.RequestType;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;

/**
 * The role split where it matters: Jolokia, Hawtio's only way into JMX. Every Jolokia read, write
 * and exec passes here on the request's thread, so the Spring Security login of the request decides:
 * {@code admin} may write attributes and invoke any operation; {@code viewer} may read attributes
 * and invoke only read-only operations (names starting with get, is, has, list, dump, browse,
 * explain, can, count, find or query — what Hawtio's tree and Camel tabs call — except the JVM's
 * dumpHeap), so it can never stop, suspend or reset a route. A denied request gets Jolokia's 403 error.
 */
public class RoleRestrictor implements Restrictor {

    /** Operation names that only read: JMX getters, Camel's dump, browse and explain operations, Hawtio's list and canInvoke. */
    static final Pattern READ_ONLY_OPERATION =
            Pattern.compile("(get|is|has|list|dump|browse|explain|can|count|find|query)([A-Z0-9_].*)?");

    /** Named like a read, but writes: the JVM's heap dump goes to a file (and holds every secret in memory). */
    static final Set<String> WRITING_DESPITE_THE_NAME = Set.of("dumpHeap");

    @Override
    public boolean isHttpMethodAllowed(HttpMethod method) {
        return true;
    }

    @Override
    public boolean isTypeAllowed(RequestType type) {
        return true;
    }

    @Override
    public boolean isAttributeReadAllowed(ObjectName name, String attribute) {
        return has(Role.VIEWER) || has(Role.ADMIN);
    }

    @Override
    public boolean isAttributeWriteAllowed(ObjectName name, String attribute) {
        return has(Role.ADMIN);
    }

    @Override
    public boolean isOperationAllowed(ObjectName name, String operation) {
        if (has(Role.ADMIN)) {
            return true;
        }
        return has(Role.VIEWER) && isReadOnly(operation);
    }

    /** {@code operation} as Jolokia passes it: a name, possibly with its signature ({@code stop()}, {@code stop(long)}). */
    static boolean isReadOnly(String operation) {
        if (operation == null) {
            return false;
        }
        int signature = operation.indexOf('(');
        String name = signature < 0 ? operation : operation.substring(0, signature);
        name = name.trim();
        return READ_ONLY_OPERATION.matcher(name).matches() && !WRITING_DESPITE_THE_NAME.contains(name);
    }

    @Override
    public boolean isRemoteAccessAllowed(String... hostOrAddress) {
        return true;
    }

    @Override
    public boolean isOriginAllowed(String origin, boolean onlyWhenStrictCheckingIsEnabled) {
        return true;
    }

    @Override
    public boolean isObjectNameHidden(ObjectName name) {
        return false;
    }

    private static boolean has(Role role) {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        if (authentication == null || !authentication.isAuthenticated()) {
            return false;
        }
        for (GrantedAuthority granted : authentication.getAuthorities()) {
            if (role.authority().equals(granted.getAuthority())) {
                return true;
            }
        }
        return false;
    }
}
