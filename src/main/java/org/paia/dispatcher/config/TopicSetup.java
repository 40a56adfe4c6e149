package org.paia.dispatcher.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;

/**
 * Creates the dispatcher's topics when they do not exist yet, before any route or the ledger
 * reader starts. The ledger is compacted: it holds state, and compaction keeps the latest record
 * of each task and instance.
 */
public class TopicSetup {

    private final DispatcherProperties.Kafka kafka;

    public TopicSetup(DispatcherProperties.Kafka kafka) {
        this.kafka = kafka;
    }

    public void createMissingTopics() {
        Properties config = new Properties();
        config.putAll(kafka.getClientProperties());
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBootstrapServers());
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");
        try (Admin admin = Admin.create(config)) {
            Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String topic : List.of(kafka.getTaskTopic(), kafka.getResultTopic(), kafka.getDeadLetterTopic())) {
                if (!existing.contains(topic)) {
                    missing.add(new NewTopic(topic, kafka.getPartitions(), kafka.getReplicationFactor()));
                }
            }
            if (!existing.contains(kafka.getLedgerTopic())) {
                missing.add(new NewTopic(kafka.getLedgerTopic(), kafka.getPartitions(), kafka.getReplicationFactor())
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
            }
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(60, TimeUnit.SECONDS);
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                throw new IllegalStateException("cannot create the dispatcher's topics on "
                        + kafka.getBootstrapServers() + ": " + e.getCause(), e.getCause());
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka at paia.kafka.bootstrap-servers=" + kafka.getBootstrapServers()
                    + " did not answer within 60 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
