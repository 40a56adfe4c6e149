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
    private final Duration duplicateWindow;
    private final Clock clock;
    /** Records written in the current round (the route runs one round at a time). */
    private int roundWritten;

    public LedgerLifecycle(TaskBook book, Duration duplicateWindow, Clock clock) {
        this.book = book;
        this.duplicateWindow = duplicateWindow;
        this.clock = clock;
    }

    /**
     * The next batch of the sweep, for the {@code ledger-sweep} route to commit ({@code paia-tx:ledger}); empty
     * when nothing is left to write, or on a replica that is not the scheduler. First the truths to write again,
     * then keys to tombstone, at most {@link #BATCH} at a time.
     */
    public LedgerWrite nextBatch() {
        if (!book.mayAct()) {
            return LedgerWrite.of(List.of());
        }
        List<LedgerEntry> again = book.reassertions(BATCH);
        if (!again.isEmpty()) {
            LOG.info("Ledger: {} room(s) whose latest record was a duplicate acceptance recorded again", again.size());
            return LedgerWrite.of(again);
        }
        Instant cutoff = clock.instant().minus(duplicateWindow);
        return LedgerWrite.deleting(book.expiredKeys(cutoff, BATCH));
    }

    /** The first batch of a sweep (the {@code ledger-sweep} route, every {@code paia.ledger.sweep-interval}). */
    public LedgerWrite startRound() {
        roundWritten = 0;
        return nextBatch();
    }

    /**
     * Whether the sweep writes this batch and goes on: it has something to write and the round is not over
     * its bound ({@link #MAX_PER_SWEEP}; the next round goes on from there).
     */
    public boolean more(LedgerWrite batch) {
        boolean more = !batch.isEmpty() && roundWritten < MAX_PER_SWEEP;
        if (more) {
            roundWritten += batch.entries().size() + batch.deletedKeys().size();
        } else if (roundWritten > 0) {
            LOG.info("Ledger: {} records written by the sweep; {}", roundWritten, book.sizes());
            roundWritten = 0;
        }
        return more;
    }

    /**
     * One whole sweep without a route (the ledger history test and the bench), its batches written with
     * {@code write}; returns the records written.
     */
    public int sweep(java.util.function.Consumer<LedgerWrite> write) {
        int written = 0;
        for (LedgerWrite batch = startRound(); more(batch); batch = nextBatch()) {
            write.accept(batch);
            written += batch.entries().size() + batch.deletedKeys().size();
        }
        return written;
    }
}
