package org.paia.dispatcher.schedule;

import java.time.Clock;
import java.util.List;
import org.apache.camel.Exchange;
import org.paia.dispatcher.config.Headers;
import org.paia.dispatcher.ledger.FailureSource;
import org.paia.dispatcher.ledger.Ledger;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.Outcome;
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
    private final Clock clock;

    public Scheduler(TaskBook book, Ledger ledger, int maxAttempts, Clock clock) {
        this.book = book;
        this.ledger = ledger;
        this.maxAttempts = maxAttempts;
        this.clock = clock;
    }

    /** Runs to launch now. An instance whose pods were lost {@code maxAttempts} times is recorded failed instead. */
    public List<GameRun> dueRuns() {
        return book.claimDue().stream().filter(run -> {
            if (run.attempt() < maxAttempts) {
                return true;
            }
            recordFailure(run, "game pod lost " + run.attempt() + " times (platform failure; max attempts "
                    + maxAttempts + ")", FailureSource.PLATFORM);
            return false;
        }).toList();
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
        recordFailure(run, reason, FailureSource.INPUT);
    }

    private void recordFailure(GameRun run, String reason, FailureSource source) {
        try {
            ledger.record(LedgerEntry.outcome(run.roomId(), run.instance(), run.attempt(), null, Outcome.FAILED,
                    reason, source, null, null, null, clock.instant()));
        } catch (RuntimeException e) {
            book.release(run);
            throw e;
        }
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
