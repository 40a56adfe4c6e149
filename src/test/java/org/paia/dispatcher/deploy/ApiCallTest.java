package org.paia.dispatcher.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import org.junit.jupiter.api.Test;

/** RbacIT's mapping from an HTTP request to what RBAC checks, on the request shapes fabric8 sends. */
class ApiCallTest {

    private static final Role ROLE = new RoleBuilder().withNewMetadata().withName("r").endMetadata()
            .withRules(new PolicyRuleBuilder().withApiGroups("").withResources("pods").withVerbs("get", "watch").build(),
                    new PolicyRuleBuilder().withApiGroups("coordination.k8s.io").withResources("leases")
                            .withResourceNames("only-this").withVerbs("update").build())
            .build();

    @Test
    void mapsMethodPathAndWatchToVerbGroupResourceAndName() {
        assertThat(ApiCall.of("GET", "/api/v1/namespaces/paia/pods/p1"))
                .isEqualTo(new ApiCall("get", "", "pods", "paia", "p1", null));
        assertThat(ApiCall.of("GET", "/api/v1/namespaces/paia/pods?labelSelector=a%3Db&limit=1"))
                .isEqualTo(new ApiCall("list", "", "pods", "paia", null, null));
        assertThat(ApiCall.of("GET", "/api/v1/namespaces/paia/pods?allowWatchBookmarks=true&watch=true"))
                .isEqualTo(new ApiCall("watch", "", "pods", "paia", null, null));
        assertThat(ApiCall.of("GET", "/api/v1/namespaces/paia/pods/p1/log?container=game&limitBytes=10"))
                .isEqualTo(new ApiCall("get", "", "pods/log", "paia", "p1", null));
        assertThat(ApiCall.of("PATCH", "/api/v1/namespaces/paia/pods/p1/status").permission()).isEqualTo("patch /pods/status");
        assertThat(ApiCall.of("POST", "/api/v1/namespaces/paia/pods").verb()).isEqualTo("create");
        assertThat(ApiCall.of("DELETE", "/api/v1/namespaces/paia/pods/p1").verb()).isEqualTo("delete");
        assertThat(ApiCall.of("DELETE", "/api/v1/namespaces/paia/pods?labelSelector=x").verb()).isEqualTo("deletecollection");
        assertThat(ApiCall.of("PUT", "/apis/coordination.k8s.io/v1/namespaces/paia/leases/l"))
                .isEqualTo(new ApiCall("update", "coordination.k8s.io", "leases", "paia", "l", null));
        assertThat(ApiCall.of("GET", "/api/v1/nodes/n1")).isEqualTo(new ApiCall("get", "", "nodes", null, "n1", null));
        assertThat(ApiCall.of("GET", "/version").permission()).isEqualTo("get /version");
    }

    @Test
    void aRoleAllowsOnlyItsVerbsResourcesNamesAndNamespace() {
        assertThat(ApiCall.of("GET", "/api/v1/namespaces/paia/pods/p1").allowedBy(ROLE, "paia")).isTrue();
        assertThat(ApiCall.of("GET", "/api/v1/namespaces/paia/pods?watch=1").allowedBy(ROLE, "paia")).isTrue();
        assertThat(ApiCall.of("GET", "/api/v1/namespaces/paia/pods").allowedBy(ROLE, "paia")).as("list").isFalse();
        assertThat(ApiCall.of("GET", "/api/v1/namespaces/paia/pods/p1/log").allowedBy(ROLE, "paia")).as("subresource")
                .isFalse();
        assertThat(ApiCall.of("GET", "/api/v1/namespaces/other/pods/p1").allowedBy(ROLE, "paia")).as("namespace")
                .isFalse();
        assertThat(ApiCall.of("GET", "/api/v1/nodes/n1").allowedBy(ROLE, "paia")).as("cluster-scoped").isFalse();
        assertThat(ApiCall.of("GET", "/version").allowedBy(ROLE, "paia")).as("non-resource URL").isFalse();
        assertThat(ApiCall.of("PUT", "/apis/coordination.k8s.io/v1/namespaces/paia/leases/only-this")
                .allowedBy(ROLE, "paia")).isTrue();
        assertThat(ApiCall.of("PUT", "/apis/coordination.k8s.io/v1/namespaces/paia/leases/another")
                .allowedBy(ROLE, "paia")).as("resourceNames").isFalse();
    }
}
