package org.paia.dispatcher.ledger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.paia.dispatcher.schedule.TaskBook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the ledger — and so every rebuild's time and heap — bounded by open work and the duplicate
 * window rather than by months of history. A task's completion tombstones its instance records in its
 * own transaction ({@code ResultPublisher}); this sweep, run by the scheduler ({@code ledger-sweep}
 * route), tombstones the room keys that left the duplicate window, the instance records older versions
 * left behind, and writes again the truth of a room whose latest record is a duplicate acceptance, so
 * that compaction keeps it.
 */
public class LedgerLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(LedgerLifecycle.class);
    /** Tombstones per transaction. */
    static final int BATCH = 1000;
    /** At most this many keys per sweep, so that a large backlog (an upgrade) is spread over several sweeps. */
    static final int MAX_PER_SWEEP = 50_000;

    private final TaskBook book;
    private final Ledger ledger;
    private final Duration duplicateWindow;
    private final Clock clock;

    public LedgerLifecycle(TaskBook book, Ledger ledger, Duration duplicateWindow, Clock clock) {
        this.book = book;
        this.ledger = ledger;
        this.duplicateWindow = duplicateWindow;
        this.clock = clock;
    }

    /** One sweep; returns the number of records written. Does nothing on a replica that is not the scheduler. */
    public int sweep() {
        if (!book.mayAct()) {
            return 0;
        }
        int written = 0;
        List<LedgerEntry> again = book.reassertions(BATCH);
        if (!again.isEmpty()) {
            ledger.write(List.of(), again, List.of());
            written += again.size();
            LOG.info("Ledger: {} room(s) whose latest record was a duplicate acceptance recorded again", again.size());
        }
        Instant cutoff = clock.instant().minus(duplicateWindow);
        int deleted = 0;
        for (List<String> keys = book.expiredKeys(cutoff, BATCH); !keys.isEmpty() && deleted < MAX_PER_SWEEP;
             keys = book.expiredKeys(cutoff, BATCH)) {
            ledger.delete(keys);
            deleted += keys.size();
        }
        if (deleted > 0) {
            LOG.info("Ledger: {} keys tombstoned (rooms completed before {}, leftovers of completed tasks); {}",
                    deleted, cutoff, book.sizes());
        }
        return written + deleted;
    }
}
