package org.paia.dispatcher.config;

import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;
import java.time.Duration;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * One shared client per external system. Camel's kubernetes and azure-storage-blob components
 * have no Spring Boot starter at 4.18, so they are configured through these beans, which Camel
 * autowires because there is exactly one of each.
 */
@Configuration(proxyBeanMethods = false)
public class ClientsConfiguration {

    /**
     * The User-Agent of every Kubernetes API call the dispatcher makes: it names the dispatcher in
     * the API server's audit log, and lets RbacIT tell the dispatcher's calls from the simulated
     * node's and the tests' own.
     */
    public static final String KUBERNETES_USER_AGENT = "paia-dispatcher";

    @Bean(destroyMethod = "close")
    KubernetesClient kubernetesClient(DispatcherProperties properties) {
        DispatcherProperties.Kubernetes k8s = properties.getKubernetes();
        Config config = k8s.getMasterUrl() == null || k8s.getMasterUrl().isBlank()
                // in-cluster service account, else ~/.kube/config
                ? new ConfigBuilder(Config.autoConfigure(null)).withNamespace(k8s.getNamespace()).build()
                : new ConfigBuilder().withMasterUrl(k8s.getMasterUrl()).withNamespace(k8s.getNamespace())
                        .withTrustCerts(true).build();
        // Retries are Camel's (redelivery policies from paia.retry.*, counted in paia_retries_total),
        // not also the HTTP client's: one place decides how often and how long.
        config.setRequestRetryBackoffLimit(0);
        config.setUserAgent(KUBERNETES_USER_AGENT);
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    @Bean
    BlobServiceClient blobServiceClient(DispatcherProperties properties) {
        try {
            return new BlobServiceClientBuilder()
                    .connectionString(properties.getStorage().getConnectionString())
                    // One quick retry for a blip; longer outages are Camel's redelivery (paia.retry.*),
                    // not the SDK's default of four tries with seconds of backoff inside one call.
                    .retryOptions(new RequestRetryOptions(RetryPolicyType.EXPONENTIAL, 2, Duration.ofSeconds(60),
                            Duration.ofMillis(200), Duration.ofSeconds(2), null))
                    .buildClient();
        } catch (IllegalArgumentException e) {
            // The SDK's message may quote the connection string; ours names only the property.
            throw new IllegalArgumentException("paia.storage.connection-string is not a valid Azure Storage "
                    + "connection string (AccountName, AccountKey and BlobEndpoint or EndpointSuffix are needed)");
        }
    }
}
