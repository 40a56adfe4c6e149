package org.paia.dispatcher.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.paia.dispatcher.failures.FailureClass;
import org.paia.dispatcher.failures.FailureClassifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One transactional Kafka producer that writes a batch of records — and, for read-process-write,
 * the consumed record's offset — atomically: all of it becomes visible to {@code read_committed}
 * readers, or none of it.
 *
 * <p>Camel's {@code transacted=true} cannot do this (it never calls
 * {@code sendOffsetsToTransaction}), and it closes its producer for good after any
 * {@code KafkaException}. Here a commit that times out is repeated; an abortable failure aborts and
 * is rethrown (the caller rewinds and processes the record again); a fatal one (fenced, unauthorised,
 * unsupported) closes the producer and is rethrown as {@link FatalDispatcherException}. Calls are serialised: a transactional
 * producer carries one transaction at a time.
 *
 * <p>With {@link #withMetrics} every failed attempt that will be repeated — a commit repeated here, or
 * a transaction aborted (or not begun) for its caller to redo — is counted as
 * {@code paia_transaction_retries_total{writer,class}}. The Kafka client hides a short broker outage
 * inside its blocking calls; these are the retries that the outage costs, and Camel's redelivery
 * counters only see the ones that reach a route.
 */
public class TransactionalWriter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TransactionalWriter.class);
    private static final int COMMIT_ATTEMPTS = 4;

    private final String transactionalId;
    private final Properties config;
    private final long transactionTimeoutMs;
    private final AtomicReference<Producer<String, byte[]>> producer = new AtomicReference<>();
    private volatile FatalDispatcherException fatal;
    private volatile MeterRegistry metrics;
    private volatile String writerName;
    private volatile boolean recoversTimedOut;

    public TransactionalWriter(String bootstrapServers, String transactionalId, Map<String, String> clientProperties) {
        this.transactionalId = transactionalId;
        this.config = new Properties();
        config.putAll(clientProperties);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.CLIENT_ID_CONFIG, transactionalId);
        config.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "60000");
        this.transactionTimeoutMs = Long.parseLong(String.valueOf(config.get(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG)).trim());
        config.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
        // Bounds how long a call blocks on an unreachable broker (the route thread waits meanwhile).
        config.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    }

    /** Counts this writer's retried transactions in {@code registry}, tagged {@code writer=name}. */
    public TransactionalWriter withMetrics(MeterRegistry registry, String name) {
        this.writerName = name;
        this.metrics = registry;
        return this;
    }

    /**
     * Treats a fence that ends a transaction older than {@code transaction.timeout.ms} as the broker's
     * abort of a timed-out transaction (ABORTABLE, see {@link #timedOut}) instead of as fatal. Only for a
     * transactional id that no other live process uses (the intake's, one per replica): where the id
     * is shared (the scheduler's), a slow zombie could otherwise fence the new leader back.
     */
    public TransactionalWriter recoveringTimedOutTransactions() {
        this.recoversTimedOut = true;
        return this;
    }

    private void countRetry(Throwable cause) {
        MeterRegistry registry = metrics;
        if (registry != null) {
            Counter.builder("paia.transaction.retries")
                    .description("Kafka transactions that failed and are repeated (by this writer or its caller), by class")
                    .tag("writer", writerName).tag("class", FailureClassifier.classify(cause).name())
                    .register(registry).increment();
        }
    }

    /** Writes the records in one transaction, committing nothing else. */
    public void write(List<ProducerRecord<String, byte[]>> records) {
        write(records, List.<ConsumedOffset>of());
    }

    /**
     * Writes the records and marks {@code consumed} as processed in one transaction.
     *
     * @throws KafkaException an abortable failure: the transaction was aborted; process the record again
     * @throws FatalDispatcherException this producer can no longer write
     */
    public void write(List<ProducerRecord<String, byte[]>> records, ConsumedOffset consumed) {
        write(records, consumed == null ? List.of() : List.of(consumed));
    }

    /**
     * Writes the records and marks every consumed record as processed in one transaction: for each
     * partition, the offset after the highest record consumed from it. The group metadata sent is the one
     * captured with the first record consumed: if the group rebalanced since (a partition may have moved to
     * another consumer), the broker refuses the offsets (an abortable failure) and the whole batch is read
     * again from the last commit, by whichever consumer owns it now (KIP-447).
     *
     * @throws KafkaException an abortable failure: the transaction was aborted; process the records again
     * @throws FatalDispatcherException this producer can no longer write
     */
    public synchronized void write(List<ProducerRecord<String, byte[]>> records, List<ConsumedOffset> consumed) {
        Producer<String, byte[]> p = producer();
        long begun = System.nanoTime();
        try {
            p.beginTransaction();
            for (ProducerRecord<String, byte[]> record : records) {
                p.send(record);
            }
            if (!consumed.isEmpty()) {
                p.sendOffsetsToTransaction(nextOffsets(consumed), consumed.get(0).groupMetadata());
            }
            commit(p);
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException
                 | UnsupportedVersionException | InvalidPidMappingException | IllegalStateException e) {
            long ranMs = (System.nanoTime() - begun) / 1_000_000;
            if (recoversTimedOut && e instanceof ProducerFencedException && ranMs >= transactionTimeoutMs) {
                throw timedOut(ranMs, e);
            }
            throw fail("transactional producer " + transactionalId + " cannot continue: " + e.getClass().getSimpleName(), e);
        } catch (KafkaException | IllegalArgumentException e) {
            FailureClass failureClass = FailureClassifier.classify(e);
            LOG.warn("Aborting transaction of {} ({}): {}", transactionalId, failureClass, e.toString());
            abortOrReset(p, e);
            countRetry(e);
            throw e;
        }
    }

    private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(List<ConsumedOffset> consumed) {
        Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
        for (ConsumedOffset offset : consumed) {
            next.merge(offset.partition(), new OffsetAndMetadata(offset.nextOffset()),
                    (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        return next;
    }

    /**
     * Kafka 3.9 reports a transaction that the coordinator aborted for exceeding
     * {@code transaction.timeout.ms} as {@link ProducerFencedException} on the next call to the
     * coordinator (it bumps the epoch when it aborts), exactly as it reports a newer producer with our
     * id. A transaction that ran past its timeout was aborted by the broker: that is abortable, and a
     * new producer ({@code initTransactions}) continues. A fence within the timeout stays fatal.
     */
    private TransactionTimedOutException timedOut(long ranMs, RuntimeException fenced) {
        TransactionTimedOutException e = new TransactionTimedOutException("transaction of " + transactionalId + " ran "
                + ranMs + " ms, past transaction.timeout.ms=" + transactionTimeoutMs + ": the broker aborted it", fenced);
        LOG.warn("Aborted by the broker: {} ({}); the producer is recreated and the record processed again",
                e.getMessage(), FailureClassifier.classify(e));
        reset();
        countRetry(e);
        return e;
    }

    /**
     * A commit that timed out must be repeated, never aborted (Kafka refuses: "the previous call to
     * commitTransaction timed out and must be retried"): the EndTxn request may already be on its way,
     * so the outcome is unknown, and reporting a failure would let the caller write the same records
     * again — a duplicate once the first commit lands. So it is repeated until the broker answers,
     * for at least {@code transaction.timeout.ms} (by then the coordinator has committed or aborted it);
     * a commit still unanswered after that leaves the outcome unknown, which only a restart that
     * rebuilds from the ledger resolves: fatal.
     */
    private void commit(Producer<String, byte[]> p) {
        long started = System.nanoTime();
        for (int attempt = 1; ; attempt++) {
            try {
                p.commitTransaction();
                return;
            } catch (TimeoutException | InterruptException e) {
                long waitedMs = (System.nanoTime() - started) / 1_000_000;
                if (attempt >= COMMIT_ATTEMPTS && waitedMs >= transactionTimeoutMs) {
                    throw fail("commit of " + transactionalId + " unanswered for " + waitedMs
                            + " ms: its outcome is unknown", e);
                }
                LOG.warn("Commit of {} timed out (attempt {}, {} ms, {}), repeating it", transactionalId, attempt,
                        waitedMs, FailureClassifier.classify(e));
                countRetry(e);
            }
        }
    }

    /**
     * Aborts the failed transaction. If even the abort fails (the broker is unreachable), the producer
     * is dropped: the next write starts a new one, whose {@code initTransactions} aborts what this one
     * left open. Only fencing and authorisation errors are fatal.
     */
    private void abortOrReset(Producer<String, byte[]> p, RuntimeException cause) {
        try {
            p.abortTransaction();
        } catch (ProducerFencedException | AuthorizationException | UnsupportedVersionException e) {
            cause.addSuppressed(e);
            throw fail("transactional producer " + transactionalId + " could not abort: " + e.getClass().getSimpleName(),
                    cause);
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
            LOG.warn("Abort of {} failed ({}); the producer is recreated on the next write", transactionalId,
                    e.toString());
            reset();
        }
    }

    private void reset() {
        Producer<String, byte[]> old = producer.getAndSet(null);
        if (old != null) {
            old.close(java.time.Duration.ZERO);
        }
    }

    /**
     * Initialises a new producer now: any other producer with the same transactional id is fenced and
     * its open transaction aborted before this call returns. The producer this writer had is closed
     * first, since another process may have fenced it meanwhile without this one writing (a replica
     * that schedules a second time was fenced by the scheduler in between): reusing it would fail the
     * first write with {@code ProducerFencedException}.
     */
    public synchronized void fence() {
        if (fatal != null) {
            throw fatal;
        }
        reset();
        producer();
    }

    /** {@link #fence()} now if the broker answers; otherwise the first write will. */
    public void tryFence() {
        try {
            fence();
        } catch (FatalDispatcherException e) {
            throw e;
        } catch (RuntimeException e) {
            LOG.warn("Could not initialise {} yet ({}); will retry on first use", transactionalId, e.toString());
        }
    }

    /** The fatal error that closed this writer, or null while it works. */
    public FatalDispatcherException fatalError() {
        return fatal;
    }

    private Producer<String, byte[]> producer() {
        if (fatal != null) {
            throw fatal;
        }
        Producer<String, byte[]> p = producer.get();
        if (p == null) {
            p = new KafkaProducer<>(config);
            try {
                // initTransactions fences any older producer with our id and aborts its open transaction.
                p.initTransactions();
            } catch (ProducerFencedException | AuthorizationException | UnsupportedVersionException e) {
                p.close(java.time.Duration.ZERO);
                throw fail("transactional producer " + transactionalId + " cannot start: "
                        + e.getClass().getSimpleName(), e);
            } catch (RuntimeException e) {
                p.close(java.time.Duration.ZERO); // broker unreachable: the next write tries again
                countRetry(e);
                throw e;
            }
            producer.set(p);
        }
        return p;
    }

    private FatalDispatcherException fail(String message, Exception cause) {
        fatal = new FatalDispatcherException(message, cause);
        LOG.error(message, cause);
        Producer<String, byte[]> p = producer.getAndSet(null);
        if (p != null) {
            p.close(java.time.Duration.ZERO);
        }
        return fatal;
    }

    @Override
    public void close() {
        Producer<String, byte[]> p = producer.getAndSet(null);
        if (p != null) {
            p.close(java.time.Duration.ofSeconds(5));
        }
    }
}
