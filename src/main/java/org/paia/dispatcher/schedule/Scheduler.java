package org.paia.dispatcher.schedule;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.Exchange;
import org.paia.dispatcher.config.Headers;
import org.paia.dispatcher.ledger.FailureSource;
import org.paia.dispatcher.ledger.Ledger;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.Outcome;
import org.paia.dispatcher.pods.PodClient;
import org.paia.dispatcher.task.GameTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what to launch and what to complete next, from the {@link TaskBook}; the
 * {@code schedule-tick} route calls it and hands each decision to the launch or completion route.
 */
public class Scheduler {

    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    private final TaskBook book;
    private final Ledger ledger;
    private final int maxAttempts;
    private final int capacity;
    private final PodClient pods;
    private final Clock clock;
    private final int prefetchRooms;

    /**
     * @param maxAttempts attempts per instance unless a task asks for its own {@code max_attempts}
     * @param capacity    the most game pods alive at once ({@code paia.scheduler.max-active-pods})
     * @param prefetchRooms how many upcoming tasks {@link #upcoming()} names (0: no prefetching)
     */
    public Scheduler(TaskBook book, Ledger ledger, PodClient pods, int maxAttempts, int capacity, int prefetchRooms,
                     Clock clock) {
        this.book = book;
        this.prefetchRooms = prefetchRooms;
        this.pods = pods;
        this.ledger = ledger;
        this.maxAttempts = maxAttempts;
        this.capacity = capacity;
        this.clock = clock;
    }

    /**
     * Runs to launch now, within the capacity, with their launches recorded on the ledger (one
     * transaction for the whole pass) before any pod exists, so that a restarted scheduler looks for
     * those pods. An instance whose pods were lost as often as its attempts allow is recorded failed
     * in the same transaction instead.
     */
    public List<GameRun> dueRuns() {
        TaskBook.Claims claims = book.claimDue(capacity, maxAttempts);
        if (claims.launch().isEmpty() && claims.exhausted().isEmpty()) {
            return List.of();
        }
        Instant now = clock.instant();
        List<LedgerEntry> entries = new ArrayList<>();
        for (GameRun run : claims.exhausted()) {
            int allowed = run.task().attemptsAllowed(maxAttempts);
            entries.add(LedgerEntry.outcome(run.roomId(), run.instance(), run.attempt(), null, Outcome.FAILED,
                    "game pod lost " + run.attempt() + " times (platform failure; max attempts " + allowed + ")",
                    FailureSource.PLATFORM, null, null, null, now));
        }
        for (GameRun run : claims.launch()) {
            entries.add(LedgerEntry.launched(run.roomId(), run.instance(), run.attempt(), run.podName(), now));
        }
        try {
            ledger.recordWith(List.of(), entries.toArray(LedgerEntry[]::new));
        } catch (RuntimeException e) {
            claims.exhausted().forEach(book::release);
            claims.launch().forEach(book::release);
            throw e;
        }
        return claims.launch();
    }

    /** The tasks whose runs are due next ({@code paia.scheduler.prefetch-rooms} of them), for prefetching. */
    public List<GameTask> upcoming() {
        return book.upcoming(prefetchRooms);
    }

    public List<TaskBook.OpenTask> completableTasks() {
        return book.claimCompletable();
    }

    /** The launch failed in a way a later try may mend: the instance is claimed again on a later tick. */
    public void launchFailed(Exchange exchange) {
        GameRun run = exchange.getIn().getHeader(Headers.GAME_RUN, GameRun.class);
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        LOG.warn("Launch of {} failed, will try again: {}", run, cause == null ? "?" : cause.toString());
        book.release(run);
    }

    /** The launch can never succeed (e.g. the program does not exist): the instance fails for good. */
    public void launchRejected(Exchange exchange) {
        GameRun run = exchange.getIn().getHeader(Headers.GAME_RUN, GameRun.class);
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        String reason = cause == null ? "launch failed" : cause.getMessage();
        LOG.warn("Launch of {} failed for good: {}", run, reason);
        try {
            ledger.record(LedgerEntry.outcome(run.roomId(), run.instance(), run.attempt(), null, Outcome.FAILED,
                    reason, FailureSource.INPUT, null, null, null, clock.instant()));
        } catch (RuntimeException e) {
            book.release(run);
            throw e;
        }
        // Make sure no pod of this run is left (it fails before its pod is created, but a previous
        // scheduler may have created it), so its slot is free for the next run at once.
        pods.release(run.podName());
        book.podGone(run.podName());
    }

    /** Completion could not be published now; a later tick tries again. */
    public void completionFailed(Exchange exchange) {
        TaskBook.OpenTask task = exchange.getIn().getBody(TaskBook.OpenTask.class);
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        LOG.warn("Publishing the result of {} failed, will try again: {}", task.roomId(),
                cause == null ? "?" : cause.toString());
        book.releaseCompletion(task.roomId());
    }
}
