package org.paia.dispatcher.ledger;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.paia.dispatcher.schedule.TaskBook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Rebuilds the {@link TaskBook} from the ledger topic: reads every partition from the beginning
 * ({@code read_committed}, no consumer group, nothing committed), marks the book caught up once it
 * has reached the end offsets seen at start, then keeps following the topic.
 *
 * <p>A plain consumer rather than a Camel route because "caught up" needs the consumer's positions,
 * which camel-kafka does not expose; nothing may launch before the whole ledger has been read.
 */
public class LedgerReader implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(LedgerReader.class);

    private final Properties config = new Properties();
    private final String topic;
    private final TaskBook book;
    private final ObjectMapper mapper;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile Thread thread;
    private volatile boolean running;
    private final java.util.Queue<CompletableFuture<Void>> catchUpRequests = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private volatile Rebuild lastRebuild;
    private volatile RuntimeException failure;
    private final List<Consumer<LedgerEntry>> appliedListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile long lag = -1;

    public LedgerReader(String bootstrapServers, Map<String, String> clientProperties, String topic, TaskBook book,
                        ObjectMapper mapper) {
        this.topic = topic;
        this.book = book;
        this.mapper = mapper;
        config.putAll(clientProperties);
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "paia-ledger-reader");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    }

    @Override
    public void start() {
        consumer = new KafkaConsumer<>(config);
        running = true;
        thread = new Thread(this::run, "ledger-reader");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions));
            long records = 0;
            long started = System.nanoTime();
            // Catch-ups asked for (a new scheduler), each with the end offsets it must reach.
            Map<CompletableFuture<Void>, Map<TopicPartition, Long>> catchUps = new HashMap<>();
            while (running) {
                for (CompletableFuture<Void> request = catchUpRequests.poll(); request != null;
                     request = catchUpRequests.poll()) {
                    catchUps.put(request, new HashMap<>(consumer.endOffsets(partitions)));
                }
                ConsumerRecords<String, byte[]> batch = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<String, byte[]> record : batch) {
                    apply(record);
                    records++;
                }
                lag = currentLag(partitions);
                if (!book.isCaughtUp()) {
                    end.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
                    if (end.isEmpty()) {
                        long millis = (System.nanoTime() - started) / 1_000_000;
                        lastRebuild = new Rebuild(records, millis);
                        LOG.info("Ledger {} read: {} records in {} ms; {}", topic, records, millis, book.sizes());
                        book.markCaughtUp();
                    }
                }
                catchUps.entrySet().removeIf(request -> {
                    request.getValue().entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
                    return request.getValue().isEmpty() && request.getKey().complete(null);
                });
            }
        } catch (WakeupException e) {
            // stop() was called
        } catch (RuntimeException e) {
            LOG.error("Ledger reader stopped on an error; the scheduler will not launch more games", e);
            failure = e;
        } finally {
            catchUpRequests.forEach(r -> r.completeExceptionally(new IllegalStateException("the ledger reader stopped")));
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void apply(ConsumerRecord<String, byte[]> record) {
        if (record.value() == null) {
            if (record.key() != null) {
                book.applyTombstone(record.key()); // a key deleted: a completed task's instance, an expired room
            }
            return;
        }
        try {
            LedgerEntry entry = mapper.readValue(record.value(), LedgerEntry.class);
            book.apply(entry);
            appliedListeners.forEach(listener -> listener.accept(entry));
        } catch (java.io.IOException | RuntimeException e) {
            // The ledger is written only by the dispatcher; a record we cannot read is logged and skipped
            // so that one bad record cannot stop every task behind it.
            LOG.error("Unreadable ledger record at {}-{}@{} skipped: {}", record.topic(), record.partition(),
                    record.offset(), e.toString());
        }
    }

    /** From the last fetch responses, no request: -1 until every partition has answered once. */
    private long currentLag(List<TopicPartition> partitions) {
        long total = 0;
        for (TopicPartition partition : partitions) {
            java.util.OptionalLong behind = consumer.currentLag(partition);
            if (behind.isEmpty()) {
                return -1;
            }
            total += behind.getAsLong();
        }
        return total;
    }

    /**
     * Asks the reader to read to the ledger's current end (after a leadership change: the previous
     * scheduler's last writes must be seen before this one acts). Completes once every record committed
     * before this call has been applied to the book.
     */
    public CompletableFuture<Void> catchUp() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (failure != null || !running) {
            done.completeExceptionally(new IllegalStateException("the ledger reader is not running", failure));
            return done;
        }
        catchUpRequests.add(done);
        return done;
    }

    /** What the first read of the ledger took: records read (tombstones included) and milliseconds; null before. */
    public Rebuild lastRebuild() {
        return lastRebuild;
    }

    /** The first read of the ledger, from its beginning to the end offsets seen at start. */
    public record Rebuild(long records, long millis) {
    }

    /** Called with every entry read from the ledger, once the book has applied it (metrics, scheduling). */
    public void addAppliedListener(Consumer<LedgerEntry> listener) {
        appliedListeners.add(listener);
    }

    /** Records between the ledger's last stable offsets and what has been applied; -1 while unknown. */
    public long lag() {
        return lag;
    }

    @Override
    public void stop() {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        Thread t = thread;
        if (t != null) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        // Start before Camel's routes and stop after them.
        return Integer.MIN_VALUE + 1000;
    }
}
