package org.paia.dispatcher.local;

import com.azure.storage.blob.BlobServiceClient;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.download.Workspace;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;

/** Local mode's extra beans: the simulated GPU node and the sample programs. Never in a cluster. */
@Configuration(proxyBeanMethods = false)
@Profile("local")
public class LocalConfiguration {

    @Bean
    NodeClient nodeClient(KubernetesClient client) {
        return NodeClient.to(client);
    }

    @Bean
    SimulatedNode simulatedNode(NodeClient node, Workspace workspace, ObjectMapper mapper,
                                DispatcherProperties properties,
                                @Value("${paia.local.node.pending:300ms}") Duration pending,
                                @Value("${paia.local.node.game-duration:2s}") Duration gameDuration) {
        return new SimulatedNode(node.client(), workspace, mapper, properties, pending, gameDuration);
    }

    /** This replica as a Running, Ready dispatcher pod, so that it can win the scheduler's lease. */
    @Bean
    io.fabric8.kubernetes.api.model.Pod localReplicaPod(NodeClient node, DispatcherProperties properties) {
        // created while beans are built, before Camel starts the leader election
        return LocalReplicaPod.register(node.client(), properties.getKubernetes().getNamespace(),
                properties.getKafka().getReplicaId());
    }

    @Bean
    @ConditionalOnProperty(name = "paia.local.seed-samples", havingValue = "true")
    ApplicationRunner samplePrograms(BlobServiceClient blobs) {
        return args -> SamplePrograms.seed(blobs);
    }
}
