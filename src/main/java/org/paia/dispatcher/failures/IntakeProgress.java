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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress, not mere connectivity: a partition assigned to this replica that has records waiting
 * (lag) while its committed offset has not moved for {@code stallTimeout} means the intake is stuck
 * (a wedged consumer thread, a poison loop) — the Cloudflare approach. Checked with the admin client
 * on a thread of its own, so a stuck consumer thread cannot hide it; the liveness probe reads the last
 * verdict from memory and answers at once, whatever the broker does.
 *
 * <p>A broker that does not answer is not this process's stall: while the check cannot reach it the
 * verdict is "unknown" (liveness stays UP) and the stall clock starts again, so that an outage of any
 * length never restarts a replica.
 */
public class IntakeProgress implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IntakeProgress.class);
    private static final long ADMIN_TIMEOUT_SECONDS = 10;

    private final Admin admin;
    private final String group;
    private final String clientId;
    private final Duration stallTimeout;
    private final Clock clock;
    private final Map<TopicPartition, Long> lastCommitted = new HashMap<>();
    private final Map<TopicPartition, Instant> lastMoved = new HashMap<>();
    private volatile Optional<String> stalled = Optional.empty();
    private volatile String unknown = "not checked yet";
    private ScheduledExecutorService executor;

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

    /** Checks every {@code interval} on a thread of its own, from now on. */
    public IntakeProgress start(Duration interval) {
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "intake-progress");
            t.setDaemon(true);
            return t;
        });
        executor.scheduleWithFixedDelay(this::check, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** The last verdict, from memory: the stalled partitions, or empty while the intake progresses (or nobody knows). */
    public Optional<String> stalled() {
        return stalled;
    }

    /** Why the last check could not decide (the broker did not answer), or null when it could. */
    public String unknown() {
        return unknown;
    }

    /** One check now (the checking thread calls it; tests may too). */
    public synchronized void check() {
        try {
            stalled = compute();
            unknown = null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // Not our stall: the stall clock starts again once the broker answers.
            Instant now = clock.instant();
            lastMoved.replaceAll((tp, since) -> now);
            stalled = Optional.empty();
            unknown = FailureClassifier.describe(e);
            LOG.debug("Intake progress unknown: {}", unknown);
        }
    }

    private Optional<String> compute() throws Exception {
        ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).all()
                .get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS).get(group);
        Set<TopicPartition> assigned = description.members().stream()
                .filter(m -> m.clientId().startsWith(clientId))
                .flatMap(m -> m.assignment().topicPartitions().stream()).collect(Collectors.toSet());
        if (assigned.isEmpty()) {
            return Optional.empty();
        }
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> latest = assigned.stream().collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
        var end = admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                .get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
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
        if (executor != null) {
            executor.shutdownNow();
        }
        admin.close(Duration.ofSeconds(2));
    }
}
