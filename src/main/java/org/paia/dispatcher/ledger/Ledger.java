package org.paia.dispatcher.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.paia.dispatcher.kafka.FatalDispatcherException;
import org.paia.dispatcher.kafka.TransactionalWriter;
import org.paia.dispatcher.schedule.TaskBook;

/**
 * The scheduler's writes to the ledger topic, behind {@code paia-tx:ledger}. Each call's records are
 * committed atomically in one Kafka transaction; once committed, its entries are applied to the
 * {@link TaskBook} at once (the ledger reader applies them again later, which changes nothing).
 *
 * <p>Group commit: calls that arrive while a transaction is committing (games ending together, on
 * the parallel finish threads) wait and are then committed together in the next transaction, so a
 * batch of many instances is not bound by one commit round-trip per outcome. If a shared
 * transaction fails for a reason that may lie in one call's records (not a fenced producer nor an
 * unreachable broker), each call of the group is tried alone, so one bad record fails only its own call.
 */
public class Ledger {

    private final TransactionalWriter writer;
    private final ObjectMapper mapper;
    private final String topic;
    private final TaskBook book;
    private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final Object committing = new Object();
    private final List<Consumer<LedgerEntry>> committedListeners = new CopyOnWriteArrayList<>();

    /** One call's records and entries, and how its commit ended. */
    private static final class Pending {
        final List<ProducerRecord<String, byte[]>> records;
        final List<LedgerEntry> entries;
        final List<String> tombstones;
        boolean done;
        RuntimeException failure;

        Pending(List<ProducerRecord<String, byte[]>> records, List<LedgerEntry> entries, List<String> tombstones) {
            this.records = records;
            this.entries = entries;
            this.tombstones = tombstones;
        }
    }

    public Ledger(TransactionalWriter writer, ObjectMapper mapper, String topic, TaskBook book) {
        this.writer = writer;
        this.mapper = mapper;
        this.topic = topic;
        this.book = book;
    }

    /**
     * Writes the other records (e.g. the result message), the ledger entries and tombstones for the deleted
     * keys in one transaction; once committed, the entries and tombstones are applied to the book, in that
     * order. The routes call it through {@code paia-tx:ledger}.
     */
    public void write(LedgerWrite write) {
        if (write.isEmpty()) {
            return;
        }
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>(write.others());
        for (LedgerEntry entry : write.entries()) {
            records.add(toRecord(entry));
        }
        for (String key : write.deletedKeys()) {
            records.add(new ProducerRecord<>(topic, key, null));
        }
        Pending mine = new Pending(records, write.entries(), write.deletedKeys());
        queue.add(mine);
        synchronized (committing) {
            if (!mine.done) {
                List<Pending> group = new ArrayList<>();
                for (Pending p = queue.poll(); p != null; p = queue.poll()) {
                    group.add(p);
                }
                commit(group);
            }
        }
        if (mine.failure != null) {
            throw mine.failure;
        }
    }

    private void commit(List<Pending> group) {
        try {
            List<ProducerRecord<String, byte[]>> all = new ArrayList<>();
            group.forEach(p -> all.addAll(p.records));
            writer.write(all);
            group.forEach(this::applied);
        } catch (FatalDispatcherException | RetriableException e) {
            // Nothing record-specific (fenced, broker unreachable): every call of the group fails alike.
            group.forEach(p -> failed(p, e));
        } catch (RuntimeException e) {
            if (group.size() == 1) {
                failed(group.get(0), e);
                return;
            }
            for (Pending p : group) {
                commit(List.of(p));
            }
        }
    }

    private void applied(Pending p) {
        for (LedgerEntry entry : p.entries) {
            committedListeners.forEach(listener -> listener.accept(entry));
            book.apply(entry);
        }
        p.tombstones.forEach(book::applyTombstone);
        p.done = true;
    }

    private static void failed(Pending p, RuntimeException e) {
        p.failure = e;
        p.done = true;
    }

    /** Called with each entry this process has committed, before it is applied (metrics). */
    public void addCommittedListener(Consumer<LedgerEntry> listener) {
        committedListeners.add(listener);
    }

    public ProducerRecord<String, byte[]> toRecord(LedgerEntry entry) {
        try {
            return new ProducerRecord<>(topic, entry.key(), mapper.writeValueAsBytes(entry));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("ledger entry cannot be serialised: " + entry.type(), e);
        }
    }
}
