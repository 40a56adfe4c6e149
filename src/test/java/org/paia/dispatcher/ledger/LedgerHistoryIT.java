package org.paia.dispatcher.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.paia.dispatcher.config.DispatcherProperties;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.config.TopicSetup;
import org.paia.dispatcher.kafka.TransactionalWriter;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.schedule.TaskBook;
import org.paia.dispatcher.support.DispatcherIT;
import org.paia.dispatcher.support.LedgerHistory;
import org.paia.dispatcher.task.TaskParser;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Issue 11, point 6: the ledger and the scheduler's memory grew with all history, and every rebuild
 * (start-up, takeover) read all of it. On the real broker: a million records of completed work as the
 * old version left them (nothing tombstoned), plus open work; the scheduler's sweep tombstones what the
 * duplicate window no longer needs, the broker compacts, and a rebuild then reads open work and the
 * window only — with every open task's outcomes and attempts intact.
 */
class LedgerHistoryIT extends DispatcherIT {

    private static final Duration WINDOW = Duration.ofDays(7);
    /** Open work, the window's completed rooms, and what compaction leaves in the active segments. */
    private static final long BOUND = 60_000;

    @Autowired
    ObjectMapper mapper;

    @Test
    void aMillionRecordsOfHistoryAreSweptAndARebuildThenReadsOpenWorkAndTheWindowOnly() throws Exception {
        String bootstrap = properties.getKafka().getBootstrapServers();
        String topic = "ledger-history-" + UUID.randomUUID();
        // The ledger as the old version created it: compacted, Kafka's default segments (1 GiB, 7 days).
        LedgerHistory.Seeded seeded = LedgerHistory.seed(bootstrap, topic, 3,
                Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT), mapper,
                properties.getStorage().getAccountUrl(), Instant.now(), WINDOW, LedgerHistory.Shape.million());
        assertThat(seeded.completedRecords()).isGreaterThanOrEqualTo(1_000_000);

        // The upgraded dispatcher's start-up sets the ledger's settings on the existing topic (TopicSetup);
        // for the test's minutes, small segments closed after 10 s, any dirt worth cleaning, tombstones
        // dropped as soon as they are compacted.
        DispatcherProperties.Kafka kafka = new DispatcherProperties.Kafka();
        kafka.setBootstrapServers(bootstrap);
        kafka.setLedgerTopic(topic);
        Map<String, String> fast = Map.of(TopicConfig.SEGMENT_BYTES_CONFIG, String.valueOf(256 * 1024),
                TopicConfig.SEGMENT_MS_CONFIG, "10000", TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.01",
                TopicConfig.DELETE_RETENTION_MS_CONFIG, "0");
        new TopicSetup(kafka, fast).createMissingTopics();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config set = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            assertThat(set.get(TopicConfig.SEGMENT_MS_CONFIG).value()).isEqualTo("10000");
            assertThat(set.get(TopicConfig.MAX_COMPACTION_LAG_MS_CONFIG).value()).isEqualTo("3600000");
        }

        Rebuilt upgraded = rebuild(bootstrap, topic);
        System.out.printf("[ledger-history] %d records (%d of completed work); first rebuild after the upgrade: "
                        + "%d records in %d ms, heap +%d MiB; %s%n", seeded.records(), seeded.completedRecords(),
                upgraded.reader.lastRebuild().records(), upgraded.reader.lastRebuild().millis(), upgraded.heapMiB,
                upgraded.book.sizes());
        assertOpenWorkIntact(upgraded.book, seeded);

        // The sweep, as the scheduler's ledger-sweep route runs it, until nothing is left to tombstone.
        long swept = 0;
        long started = System.nanoTime();
        upgraded.book.startScheduling(); // this replica schedules: the sweep runs on the scheduler only
        try (TransactionalWriter writer = new TransactionalWriter(bootstrap, "history-" + topic, Map.of())) {
            LedgerLifecycle lifecycle = new LedgerLifecycle(upgraded.book, WINDOW, Clock.systemUTC());
            Ledger ledger = new Ledger(writer, mapper, topic, upgraded.book, new org.paia.dispatcher.events.GameEvents(mapper, "paia.game.events"));
            for (int written = lifecycle.sweep(ledger::write); written > 0; written = lifecycle.sweep(ledger::write)) {
                swept += written;
            }
        }
        upgraded.reader.stop();
        System.out.printf("[ledger-history] sweep: %d tombstones in %d ms; %s%n", swept,
                (System.nanoTime() - started) / 1_000_000, upgraded.book.sizes());
        assertThat(upgraded.book.completedRooms()).isEqualTo(seeded.roomsInWindow());

        // The ledger goes on being written (the broker drops expired tombstones only when it cleans again).
        long[] remaining = new long[1];
        int[] live = new int[1];
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(5)).until(() -> {
            live[0] += LedgerHistory.traffic(bootstrap, topic, mapper, properties.getStorage().getAccountUrl(), 100).size();
            remaining[0] = LedgerHistory.count(bootstrap, topic);
            System.out.printf("[ledger-history] %d records on the ledger after %d new tasks, waiting for compaction%n",
                    remaining[0], live[0]);
            return remaining[0] < BOUND;
        });
        Rebuilt compacted = rebuild(bootstrap, topic);
        compacted.reader.stop();
        System.out.printf("[ledger-history] after compaction: %d records on the ledger; rebuild: %d records in %d ms, "
                        + "heap +%d MiB; %s%n", remaining[0], compacted.reader.lastRebuild().records(),
                compacted.reader.lastRebuild().millis(), compacted.heapMiB, compacted.book.sizes());
        assertThat(compacted.reader.lastRebuild().records()).isLessThan(BOUND);
        assertThat(compacted.book.completedRooms()).isEqualTo(seeded.roomsInWindow() + live[0]);
        assertThat(compacted.book.expiredKeys(Instant.now().minus(WINDOW), 10)).as("nothing left to tombstone").isEmpty();
        assertOpenWorkIntact(compacted.book, seeded);
    }

    /** Every open task is there, and the open batch runs exactly its instances that have no outcome. */
    private static void assertOpenWorkIntact(TaskBook book, LedgerHistory.Seeded seeded) {
        assertThat(book.openTasks()).isEqualTo(seeded.openRooms());
        book.startScheduling();
        book.podsListed(Map.of());
        List<GameRun> due = book.claimDue(100_000, 3).launch();
        assertThat(due.stream().filter(r -> r.roomId().equals(seeded.openBatch())).mapToInt(GameRun::instance).min())
                .as("the open batch's first instance without an outcome").hasValue(500);
        assertThat(due).hasSize(seeded.openRooms() - 1 + 500);
        book.resetClaims();
        book.stopScheduling();
    }

    private record Rebuilt(TaskBook book, LedgerReader reader, long heapMiB) {
    }

    private Rebuilt rebuild(String bootstrap, String topic) {
        long before = usedHeapAfterGc();
        TaskBook book = new TaskBook(new TaskParser(mapper, properties.getLimits(), properties.getGames().keySet(),
                properties.getStorage().getAccountUrl()));
        LedgerReader reader = new LedgerReader(bootstrap, Map.of(), topic, book, mapper);
        reader.start();
        await().atMost(Duration.ofMinutes(5)).until(book::isCaughtUp);
        return new Rebuilt(book, reader, Math.max(0, usedHeapAfterGc() - before) / (1024 * 1024));
    }

    private static long usedHeapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
