package org.paia.dispatcher.deploy;

import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * One Kubernetes API request as RBAC sees it: the verb, the API group, the resource (with its
 * subresource, {@code pods/log}), the namespace and the object's name, worked out from the HTTP
 * method and path the way the API server's request-info resolver does.
 *
 * @param path set instead of a resource for a non-resource URL ({@code /version}); a Role cannot
 *             grant those
 */
record ApiCall(String verb, String group, String resource, String namespace, String name, String path)
        implements Comparable<ApiCall> {

    private static final Comparator<ApiCall> ORDER = Comparator.comparing(ApiCall::permission)
            .thenComparing(c -> String.valueOf(c.namespace)).thenComparing(c -> String.valueOf(c.name));

    static ApiCall of(String method, String uri) {
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String query = q < 0 ? "" : uri.substring(q + 1);
        boolean watch = Arrays.stream(query.split("&")).anyMatch(p -> p.equals("watch=true") || p.equals("watch=1"));
        List<String> parts = Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toList();
        List<String> rest;
        String group;
        if (parts.size() >= 3 && parts.get(0).equals("api")) {
            group = "";
            rest = parts.subList(2, parts.size());
        } else if (parts.size() >= 4 && parts.get(0).equals("apis")) {
            group = parts.get(1);
            rest = parts.subList(3, parts.size());
        } else {
            return new ApiCall(method.toLowerCase(), null, null, null, null, path);
        }
        String namespace = null;
        if (rest.get(0).equals("namespaces") && rest.size() >= 3) {
            namespace = rest.get(1);
            rest = rest.subList(2, rest.size());
        }
        String resource = rest.get(0) + (rest.size() >= 3 ? "/" + rest.get(2) : "");
        String name = rest.size() >= 2 ? rest.get(1) : null;
        String verb = switch (method.toUpperCase()) {
            case "GET", "HEAD" -> watch ? "watch" : name == null ? "list" : "get";
            case "POST" -> "create";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> name == null ? "deletecollection" : "delete";
            default -> method.toLowerCase();
        };
        return new ApiCall(verb, group, resource, namespace, name, null);
    }

    /** "verb group/resource", as {@link RbacIT#granted} lists a Role's grants. */
    String permission() {
        return path != null ? verb + " " + path : verb + " " + group + "/" + resource;
    }

    boolean allowedBy(Role role, String roleNamespace) {
        if (path != null || namespace == null || !namespace.equals(roleNamespace)) {
            return false; // non-resource URLs and cluster-scoped or other namespaces' objects: not a Role's to grant
        }
        return role.getRules().stream().anyMatch(this::matches);
    }

    private boolean matches(PolicyRule rule) {
        boolean named = rule.getResourceNames() == null || rule.getResourceNames().isEmpty()
                || (name != null && rule.getResourceNames().contains(name));
        return rule.getApiGroups().contains(group) && rule.getResources().contains(resource)
                && rule.getVerbs().contains(verb) && named;
    }

    @Override
    public int compareTo(ApiCall other) {
        return ORDER.compare(this, other);
    }

    @Override
    public String toString() {
        return permission() + (namespace == null ? "" : " in " + namespace) + (name == null ? "" : " (" + name + ")");
    }
}
