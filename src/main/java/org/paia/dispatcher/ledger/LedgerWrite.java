package org.paia.dispatcher.ledger;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.paia.dispatcher.events.GameEvent;

/**
 * What one {@code paia-tx:ledger} step commits in one transaction: ledger entries, tombstones of ledger
 * keys, other records that must go with them (a task's result message with its completion), and the
 * lifecycle events of the changes the entries record ({@code paia.game.events}; rendered at commit time, see
 * {@link Ledger}).
 */
public record LedgerWrite(List<ProducerRecord<String, byte[]>> others, List<LedgerEntry> entries, List<String> deletedKeys,
                          List<GameEvent> events) {

    public LedgerWrite {
        others = List.copyOf(others);
        entries = List.copyOf(entries);
        deletedKeys = List.copyOf(deletedKeys);
        events = List.copyOf(events);
    }

    public LedgerWrite(List<ProducerRecord<String, byte[]>> others, List<LedgerEntry> entries, List<String> deletedKeys) {
        this(others, entries, deletedKeys, List.of());
    }

    public static LedgerWrite of(LedgerEntry... entries) {
        return new LedgerWrite(List.of(), List.of(entries), List.of());
    }

    public static LedgerWrite of(List<LedgerEntry> entries) {
        return new LedgerWrite(List.of(), entries, List.of());
    }

    public static LedgerWrite deleting(List<String> keys) {
        return new LedgerWrite(List.of(), List.of(), keys);
    }

    /** This write with these events added (they commit with it). */
    public LedgerWrite with(List<GameEvent> more) {
        List<GameEvent> all = new ArrayList<>(events);
        all.addAll(more);
        return new LedgerWrite(others, entries, deletedKeys, all);
    }

    public LedgerWrite with(GameEvent... more) {
        return with(List.of(more));
    }

    public boolean isEmpty() {
        return others.isEmpty() && entries.isEmpty() && deletedKeys.isEmpty() && events.isEmpty();
    }
}
