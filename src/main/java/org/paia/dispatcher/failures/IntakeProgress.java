package org.paia.dispatcher.failures;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * Progress, not mere connectivity: a partition assigned to this replica that has records waiting
 * (lag) while its committed offset has not moved for {@code stallTimeout} means the intake is stuck
 * (a wedged consumer thread, a poison loop) — the Cloudflare approach. Checked when the liveness
 * probe asks, with the admin client, so a stuck consumer thread cannot hide it.
 */
public class IntakeProgress implements AutoCloseable {

    private final Admin admin;
    private final String group;
    private final String clientId;
    private final Duration stallTimeout;
    private final Clock clock;
    private final Map<TopicPartition, Long> lastCommitted = new HashMap<>();
    private final Map<TopicPartition, Instant> lastMoved = new HashMap<>();

    public IntakeProgress(String bootstrapServers, Map<String, String> clientProperties, String group, String clientId,
                          Duration stallTimeout, Clock clock) {
        Properties config = new Properties();
        config.putAll(clientProperties);
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId + "-progress");
        this.admin = Admin.create(config);
        this.group = group;
        this.clientId = clientId;
        this.stallTimeout = stallTimeout;
        this.clock = clock;
    }

    /** A description of the stalled partitions, or empty while the intake makes progress (or has nothing to do). */
    public synchronized Optional<String> stalled() throws Exception {
        ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).all()
                .get(10, TimeUnit.SECONDS).get(group);
        Set<TopicPartition> assigned = description.members().stream()
                .filter(m -> m.clientId().startsWith(clientId))
                .flatMap(m -> m.assignment().topicPartitions().stream()).collect(Collectors.toSet());
        if (assigned.isEmpty()) {
            return Optional.empty();
        }
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> latest = assigned.stream().collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
        var end = admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                .get(10, TimeUnit.SECONDS);
        Instant now = clock.instant();
        StringBuilder stalled = new StringBuilder();
        for (TopicPartition tp : assigned) {
            long position = committed.get(tp) == null ? 0 : committed.get(tp).offset();
            Long before = lastCommitted.put(tp, position);
            if (before == null || before != position) {
                lastMoved.put(tp, now);
            }
            long lag = end.get(tp).offset() - position;
            if (lag > 0 && Duration.between(lastMoved.get(tp), now).compareTo(stallTimeout) > 0) {
                stalled.append(tp).append(" lag ").append(lag).append(" with no commit for ")
                        .append(Duration.between(lastMoved.get(tp), now).toSeconds()).append(" s; ");
            }
        }
        return stalled.isEmpty() ? Optional.empty() : Optional.of(stalled.toString().trim());
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(2));
    }
}
