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
import java.util.TreeMap;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the dispatcher's topics when they do not exist yet, before any route or the ledger
 * reader starts. The ledger is compacted: it holds state, and compaction keeps the latest record
 * of each task and instance and drops what tombstones delete. Its settings ({@link #LEDGER_DEFAULTS}
 * under {@code paia.ledger.topic-config}) are also set on a ledger that exists with other values, so
 * that an upgraded deployment's ledger is compacted as often as a new one.
 */
public class TopicSetup {

    private static final Logger LOG = LoggerFactory.getLogger(TopicSetup.class);

    /**
     * Compaction that keeps a rebuild bounded by open work: a segment is closed (and may be compacted)
     * after an hour, no record waits longer than that to be compacted, and a tombstone is kept an hour
     * after compaction for readers that are mid-way.
     */
    public static final Map<String, String> LEDGER_DEFAULTS = Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
            TopicConfig.SEGMENT_MS_CONFIG, "3600000",
            TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG, "3600000",
            TopicConfig.DELETE_RETENTION_MS_CONFIG, "3600000");

    private final DispatcherProperties.Kafka kafka;
    private final Map<String, String> ledgerConfig;

    public TopicSetup(DispatcherProperties.Kafka kafka) {
        this(kafka, Map.of());
    }

    public TopicSetup(DispatcherProperties.Kafka kafka, Map<String, String> ledgerConfig) {
        this.kafka = kafka;
        Map<String, String> config = new TreeMap<>(LEDGER_DEFAULTS);
        config.putAll(ledgerConfig);
        if (!TopicConfig.CLEANUP_POLICY_COMPACT.equals(config.get(TopicConfig.CLEANUP_POLICY_CONFIG))) {
            throw new IllegalArgumentException("paia.ledger.topic-config.cleanup.policy must be compact: the ledger "
                    + "holds state, and a deleting policy would lose open tasks");
        }
        this.ledgerConfig = Map.copyOf(config);
    }

    /** The ledger's topic settings: the defaults with {@code paia.ledger.topic-config} on top. */
    public Map<String, String> ledgerConfig() {
        return ledgerConfig;
    }

    public void createMissingTopics() {
        Properties config = new Properties();
        config.putAll(kafka.getClientProperties());
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBootstrapServers());
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");
        try (Admin admin = Admin.create(config)) {
            Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            List<String> plain = new ArrayList<>(List.of(kafka.getTaskTopic(), kafka.getResultTopic(), kafka.getDeadLetterTopic(),
                    kafka.getEventsTopic()));
            plain.addAll(kafka.getExtraTopics());
            for (String topic : plain.stream().distinct().filter(t -> !t.equals(kafka.getLedgerTopic())).toList()) {
                if (!existing.contains(topic)) {
                    missing.add(new NewTopic(topic, kafka.getPartitions(), kafka.getReplicationFactor()));
                }
            }
            if (!existing.contains(kafka.getLedgerTopic())) {
                missing.add(new NewTopic(kafka.getLedgerTopic(), kafka.getPartitions(), kafka.getReplicationFactor())
                        .configs(ledgerConfig));
            }
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(60, TimeUnit.SECONDS);
            }
            if (existing.contains(kafka.getLedgerTopic())) {
                alignLedger(admin);
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

    /**
     * Sets the ledger settings that differ on an existing ledger. Refused (no ALTER_CONFIGS right on the
     * topic) is not fatal: the dispatcher works, only the ledger may grow until an operator sets them.
     */
    private void alignLedger(Admin admin) throws InterruptedException, TimeoutException {
        ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, kafka.getLedgerTopic());
        try {
            Config current = admin.describeConfigs(List.of(topic)).all().get(60, TimeUnit.SECONDS).get(topic);
            List<AlterConfigOp> changes = new ArrayList<>();
            ledgerConfig.forEach((key, value) -> {
                ConfigEntry entry = current.get(key);
                if (entry == null || !value.equals(entry.value())) {
                    changes.add(new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET));
                }
            });
            if (!changes.isEmpty()) {
                admin.incrementalAlterConfigs(Map.of(topic, changes)).all().get(60, TimeUnit.SECONDS);
                LOG.info("Ledger topic {}: set {}", kafka.getLedgerTopic(),
                        changes.stream().map(c -> c.configEntry().name() + "=" + c.configEntry().value()).toList());
            }
        } catch (ExecutionException e) {
            LOG.warn("Ledger topic {}: cannot check or set its settings {} ({}); set them on the topic, or its history "
                    + "may make every takeover slower", kafka.getLedgerTopic(), ledgerConfig, e.getCause().toString());
        }
    }
}
