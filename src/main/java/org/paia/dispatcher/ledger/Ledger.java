package org.paia.dispatcher.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.paia.dispatcher.kafka.TransactionalWriter;
import org.paia.dispatcher.schedule.TaskBook;

/**
 * The scheduler's writes to the ledger topic. Each call is one Kafka transaction; once it has
 * committed, the records are applied to the {@link TaskBook} at once (the ledger reader applies
 * them again later, which changes nothing).
 */
public class Ledger {

    private final TransactionalWriter writer;
    private final ObjectMapper mapper;
    private final String topic;
    private final TaskBook book;
    private final List<Consumer<LedgerEntry>> committedListeners = new CopyOnWriteArrayList<>();

    public Ledger(TransactionalWriter writer, ObjectMapper mapper, String topic, TaskBook book) {
        this.writer = writer;
        this.mapper = mapper;
        this.topic = topic;
        this.book = book;
    }

    public void record(LedgerEntry entry) {
        recordWith(List.of(), entry);
    }

    /** Writes {@code others} (e.g. the result message) and the ledger entries in one transaction. */
    public void recordWith(List<ProducerRecord<String, byte[]>> others, LedgerEntry... entries) {
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>(others);
        for (LedgerEntry entry : entries) {
            records.add(toRecord(entry));
        }
        writer.write(records);
        for (LedgerEntry entry : entries) {
            committedListeners.forEach(listener -> listener.accept(entry));
            book.apply(entry);
        }
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
