package org.paia.dispatcher.results;

import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.spi.RecoverableAggregationRepository;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.support.service.ServiceSupport;
import org.paia.dispatcher.schedule.TaskBook;

/**
 * The {@code aggregate} EIP's repository and strategy for task completion, as a view of the ledger: a
 * task's group is its room, and what the group holds is what the {@link TaskBook} has read of the room's
 * outcomes from the ledger, so nothing is kept twice and nothing is lost with the process.
 *
 * <p>Camel's {@link RecoverableAggregationRepository} semantics: a group that completes is "removed" (its
 * completion is claimed) and sent on; it is confirmed by its {@code TASK_COMPLETED} on the ledger, committed
 * with the result message. Until then {@link #scan} reports it, and Camel's recovery sends it again: a
 * completion that failed, and one a previous scheduler never sent (a takeover), are recovered, and since the
 * result and the completion commit together, a recovery never publishes twice. Exchange ids are the
 * rooms', so Camel's own in-progress check keeps a recovery from racing a completion under way.
 */
public class TaskCompletions extends ServiceSupport implements RecoverableAggregationRepository, AggregationStrategy {

    static final String ID_PREFIX = "completion-";

    private final TaskBook book;
    private long recoveryInterval = 1000;

    public TaskCompletions(TaskBook book) {
        this.book = book;
    }

    /** The completion predicate: every instance of the room's task has an outcome, and no completion is under way. */
    public boolean isComplete(Exchange group) {
        String room = group.getProperty(ExchangePropertyKey.AGGREGATED_CORRELATION_KEY, String.class);
        return room != null && group.getMessage().getBody() instanceof TaskBook.OpenTask && book.isComplete(room)
                && !book.isCompleting(room);
    }

    // ---- AggregationStrategy: the group is the book's view; an outcome only says "look again" ----

    @Override
    public Exchange aggregate(Exchange group, Exchange outcome) {
        return group != null ? group : outcome;
    }

    // ---- AggregationRepository: a view of the TaskBook ----

    @Override
    public Exchange add(CamelContext camelContext, String key, Exchange exchange) {
        return null; // the outcome is on the ledger already, and the book has applied it
    }

    @Override
    public Exchange get(CamelContext camelContext, String key) {
        TaskBook.OpenTask task = book.openTask(key);
        return task == null ? null : view(camelContext, key, task);
    }

    @Override
    public void remove(CamelContext camelContext, String key, Exchange exchange) {
        book.claimCompletion(key);
    }

    @Override
    public void confirm(CamelContext camelContext, String exchangeId) {
        // confirmed by the TASK_COMPLETED record the completion commits with the result
    }

    @Override
    public Set<String> getKeys() {
        return Set.of(); // no completion by size, time or interval: only the predicate and recovery complete
    }

    // ---- RecoverableAggregationRepository ----

    @Override
    public Set<String> scan(CamelContext camelContext) {
        Set<String> ids = new LinkedHashSet<>();
        book.incompleteButDone().forEach(room -> ids.add(ID_PREFIX + room));
        return ids;
    }

    @Override
    public Exchange recover(CamelContext camelContext, String exchangeId) {
        String room = exchangeId.substring(ID_PREFIX.length());
        TaskBook.OpenTask task = book.openTask(room);
        if (task == null || !book.isComplete(room)) {
            return null;
        }
        book.claimCompletion(room);
        Exchange exchange = view(camelContext, room, task);
        // Camel 4.18 counts completions by this property when statistics are on (JMX); a recovered exchange
        // has none, and the NullPointerException then cancels the recovery task for good. It completes by
        // the predicate's rule: every instance has an outcome.
        exchange.setProperty(ExchangePropertyKey.AGGREGATED_COMPLETED_BY, "predicate");
        return exchange;
    }

    private static Exchange view(CamelContext camelContext, String room, TaskBook.OpenTask task) {
        Exchange exchange = new DefaultExchange(camelContext);
        exchange.setExchangeId(ID_PREFIX + room);
        exchange.getMessage().setBody(task);
        exchange.setProperty(ExchangePropertyKey.AGGREGATED_CORRELATION_KEY, room);
        return exchange;
    }

    @Override
    public void setRecoveryInterval(long interval, java.util.concurrent.TimeUnit timeUnit) {
        this.recoveryInterval = timeUnit.toMillis(interval);
    }

    @Override
    public void setRecoveryInterval(long interval) {
        this.recoveryInterval = interval;
    }

    @Override
    public long getRecoveryInterval() {
        return recoveryInterval;
    }

    @Override
    public boolean isUseRecovery() {
        return true;
    }

    @Override
    public void setUseRecovery(boolean useRecovery) {
        // always: recovery is how a failed or orphaned completion is sent again
    }

    @Override
    public void setDeadLetterUri(String deadLetterUri) {
        // none: a completion is retried until it is on the ledger
    }

    @Override
    public String getDeadLetterUri() {
        return null;
    }

    @Override
    public void setMaximumRedeliveries(int maximumRedeliveries) {
        // unbounded, as above
    }

    @Override
    public int getMaximumRedeliveries() {
        return 0;
    }
}
