package org.paia.dispatcher.schedule;

import org.apache.camel.ProducerTemplate;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the scheduler replica for a scheduling pass as soon as a task is accepted, so that a new game
 * on a cluster with free slots starts at once rather than on the next tick. The request goes to the
 * same coalescing queue as the tick's ({@code seda:schedule}), and only on the replica that holds the
 * scheduler Lease: the other replicas read the same ledger but never schedule.
 */
public class PassRequests {

    /** The schedule-pass route's queue, exactly as the routes name it (one pass waits, the rest are dropped). */
    public static final String QUEUE = "seda:schedule?size=1&discardWhenFull=true";

    private static final Logger LOG = LoggerFactory.getLogger(PassRequests.class);

    private final ProducerTemplate template;
    private final Leadership leadership;
    private final TaskBook book;

    public PassRequests(ProducerTemplate template, Leadership leadership, TaskBook book) {
        this.template = template;
        this.leadership = leadership;
        this.book = book;
    }

    /** A ledger entry was applied: a new task, once the ledger is caught up, asks for a pass. */
    public void applied(LedgerEntry entry) {
        if (entry.type() != LedgerEntry.Type.TASK_ACCEPTED || !book.isCaughtUp() || !leadership.isLeader()) {
            return;
        }
        try {
            template.sendBody(QUEUE, null);
        } catch (RuntimeException e) {
            LOG.debug("No immediate pass for room {} (the next tick schedules it): {}", entry.roomId(), e.toString());
        }
    }
}
