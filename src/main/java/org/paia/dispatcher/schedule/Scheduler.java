package org.paia.dispatcher.schedule;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.Exchange;
import org.paia.dispatcher.config.GpuPools;
import org.paia.dispatcher.events.GameEvent;
import org.paia.dispatcher.failures.FailureClassifier;
import org.paia.dispatcher.ledger.FailureSource;
import org.paia.dispatcher.ledger.LedgerWrite;
import org.paia.dispatcher.pods.GameLauncher;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.Outcome;
import org.paia.dispatcher.task.GameTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what to launch next, from the {@link TaskBook}; the {@code schedule-pass} route calls it,
 * records the decisions ({@code paia-tx:ledger}) and hands each run to the launch route.
 */
public class Scheduler {

    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    private final TaskBook book;
    private final int maxAttempts;
    private final GpuPools pools;
    private final Clock clock;
    private final int prefetchRooms;

    /**
     * @param maxAttempts attempts per instance unless a task asks for its own {@code max_attempts}
     * @param pools       the GPU pools: the most game pods alive at once in each ({@code paia.pools})
     * @param prefetchRooms how many upcoming tasks {@link #upcoming()} names (0: no prefetching)
     */
    public Scheduler(TaskBook book, int maxAttempts, GpuPools pools, int prefetchRooms, Clock clock) {
        this.book = book;
        this.prefetchRooms = prefetchRooms;
        this.maxAttempts = maxAttempts;
        this.pools = pools;
        this.clock = clock;
    }

    /**
     * Claims the runs to launch now, within each pool's capacity, in priority order aged by this scheduler's
     * clock ({@link TaskBook#serviceOrder}); the {@code schedule-pass} route then records their
     * launches ({@link #launchRecords}) before any pod exists, so that a restarted scheduler looks for those
     * pods. Claims are given back ({@link #passFailed}) if that write fails.
     */
    public TaskBook.Claims claimDue() {
        return book.claimDue(pools::capacity, maxAttempts, clock.instant());
    }

    /**
     * The ledger records of a pass's claims, for one transaction: {@code INSTANCE_LAUNCHED} for each run to
     * launch, and {@code FAILED} for each instance whose pods were lost as often as its attempts allow.
     */
    public LedgerWrite launchRecords(TaskBook.Claims claims) {
        Instant now = clock.instant();
        List<LedgerEntry> entries = new ArrayList<>();
        List<GameEvent> events = new ArrayList<>();
        for (GameRun run : claims.exhausted()) {
            int allowed = run.task().attemptsAllowed(maxAttempts);
            String reason = "game pod lost " + run.attempt() + " times (platform failure; max attempts " + allowed + ")";
            entries.add(LedgerEntry.outcome(run.roomId(), run.instance(), run.attempt(), null, Outcome.FAILED,
                    reason, FailureSource.PLATFORM, null, null, null, now));
            events.add(GameEvent.instance(GameEvent.Type.FINISHED, run.roomId(), run.instance(), run.attempt(), null, now)
                    .withOutcome(Outcome.FAILED, reason, null));
        }
        for (GameRun run : claims.cancelled()) {
            String reason = cancelledReason(book.cancelReason(run.roomId()));
            entries.add(LedgerEntry.outcome(run.roomId(), run.instance(), run.attempt(), null, Outcome.CANCELLED,
                    reason, null, null, null, null, now));
            events.add(GameEvent.instance(GameEvent.Type.FINISHED, run.roomId(), run.instance(), run.attempt(), null, now)
                    .withOutcome(Outcome.CANCELLED, reason, null));
        }
        for (GameRun run : claims.launch()) {
            entries.add(LedgerEntry.launched(run.roomId(), run.instance(), run.attempt(), run.podName(), now));
            events.add(GameEvent.instance(GameEvent.Type.STARTING, run.roomId(), run.instance(), run.attempt(),
                    run.podName(), now).withPlacement(run.task().pool(), run.task().priority()));
        }
        return LedgerWrite.of(entries).with(events);
    }

    /** A pass failed before its launches were recorded: its claims are given back for the next pass. */
    public void passFailed(Exchange exchange) {
        TaskBook.Claims claims = exchange.getVariable(CLAIMS, TaskBook.Claims.class);
        if (claims != null && !Boolean.TRUE.equals(exchange.getVariable(RECORDED, Boolean.class))) {
            claims.exhausted().forEach(book::release);
            claims.cancelled().forEach(book::release);
            claims.launch().forEach(book::release);
        }
        if (claims != null) {
            claims.stop().forEach(book::stopFailed);
        }
    }

    /** The reason an instance's outcome gives when its task was cancelled. */
    public static String cancelledReason(String requestReason) {
        return requestReason == null || requestReason.isBlank() ? "cancelled" : "cancelled: " + requestReason;
    }

    /** The delete of a cancelled task's pod failed: logged, and sent again by the next pass. */
    public void stopFailed(Exchange exchange) {
        GameRun run = exchange.getMessage().getBody(GameRun.class);
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        LOG.warn("Stopping {} (its task is cancelled) failed, the next pass tries again: {}", run,
                cause == null ? "?" : cause.toString());
        if (run != null) {
            book.stopFailed(run);
        }
    }

    /** Exchange variables of the schedule-pass route: the pass's claims, and whether their launches are recorded. */
    public static final String CLAIMS = "claims";
    public static final String RECORDED = "recorded";

    /** The tasks whose runs are due next ({@code paia.scheduler.prefetch-rooms} of each pool), for prefetching. */
    public List<GameTask> upcoming() {
        return book.upcoming(prefetchRooms, clock.instant());
    }

    /** The launch failed in a way a later try may mend: the instance is claimed again on a later tick. */
    public void launchFailed(Exchange exchange) {
        GameRun run = exchange.getVariable(GameLauncher.RUN, GameRun.class);
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        LOG.warn("Launch of {} failed, will try again: {}", run, cause == null ? "?" : cause.toString());
        if (run != null) {
            book.release(run);
        }
    }

    /** The launch can never succeed (e.g. the program does not exist): the instance's FAILED outcome, to record. */
    public LedgerWrite launchRejected(Exchange exchange) {
        GameRun run = exchange.getVariable(GameLauncher.RUN, GameRun.class);
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        String reason = cause == null ? "launch failed" : FailureClassifier.invalidReason(cause);
        LOG.warn("Launch of {} failed for good: {}", run, reason);
        Instant now = clock.instant();
        return LedgerWrite.of(LedgerEntry.outcome(run.roomId(), run.instance(), run.attempt(), null, Outcome.FAILED,
                reason, FailureSource.INPUT, null, null, null, now))
                .with(GameEvent.instance(GameEvent.Type.FINISHED, run.roomId(), run.instance(), run.attempt(), null, now)
                        .withOutcome(Outcome.FAILED, reason, null));
    }

    /** Recording a failed launch failed in turn: the instance is claimed again later. */
    public void launchRejectionFailed(Exchange exchange) {
        launchFailed(exchange);
    }
}
