package org.paia.dispatcher.ledger;

import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * What one {@code paia-tx:ledger} step commits in one transaction: ledger entries, tombstones of ledger
 * keys, and other records that must go with them (a task's result message with its completion).
 */
public record LedgerWrite(List<ProducerRecord<String, byte[]>> others, List<LedgerEntry> entries, List<String> deletedKeys) {

    public LedgerWrite {
        others = List.copyOf(others);
        entries = List.copyOf(entries);
        deletedKeys = List.copyOf(deletedKeys);
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

    public boolean isEmpty() {
        return others.isEmpty() && entries.isEmpty() && deletedKeys.isEmpty();
    }
}
