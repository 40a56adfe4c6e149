package org.paia.dispatcher.schedule;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.camel.CamelContext;
import org.apache.camel.cluster.CamelClusterEventListener;
import org.apache.camel.cluster.CamelClusterService;
import org.apache.camel.cluster.CamelClusterView;
import org.apache.camel.spring.boot.CamelContextConfiguration;
import org.paia.dispatcher.kafka.TransactionalWriter;
import org.paia.dispatcher.ledger.LedgerReader;
import org.paia.dispatcher.pods.PodClient;
import org.paia.dispatcher.pods.PodNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One scheduler at a time: the {@code master:scheduler:...} routes run only on the replica that
 * holds the Kubernetes Lease. Intake keeps running on every replica.
 *
 * <p>On winning the lease this replica first fences the previous leader (initialising the shared
 * scheduler transactional id aborts whatever it left open and rejects its late writes), then reads
 * the ledger to its new end, and only then lets the scheduler act: a takeover never acts on a
 * picture older than the old leader's last committed write.
 */
public class Leadership implements CamelContextConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);

    public static final String NAMESPACE = "scheduler";

    private final CamelClusterService clusterService;
    private final TaskBook book;
    private final LedgerReader reader;
    private final TransactionalWriter schedulerWriter;
    private final PodClient pods;
    private final AtomicBoolean leader = new AtomicBoolean();

    public Leadership(CamelClusterService clusterService, TaskBook book, LedgerReader reader,
                      TransactionalWriter schedulerWriter, PodClient pods) {
        this.pods = pods;
        this.clusterService = clusterService;
        this.book = book;
        this.reader = reader;
        this.schedulerWriter = schedulerWriter;
    }

    @Override
    public void beforeApplicationStart(CamelContext camelContext) {
        try {
            camelContext.addService(clusterService);
        } catch (Exception e) {
            throw new IllegalStateException("cannot add the cluster service for leader election", e);
        }
    }

    @Override
    public void afterApplicationStart(CamelContext camelContext) {
        try {
            CamelClusterView view = clusterService.getView(NAMESPACE);
            view.addEventListener((CamelClusterEventListener.Leadership) (v, member) -> changed(v));
            changed(view);
        } catch (Exception e) {
            throw new IllegalStateException("cannot join the scheduler's leader election", e);
        }
    }

    /** Whether this replica holds the scheduler Lease now. */
    public boolean isLeader() {
        return leader.get();
    }

    private void changed(CamelClusterView view) {
        boolean isLeader = view.getLocalMember().isLeader();
        if (isLeader && leader.compareAndSet(false, true)) {
            LOG.info("This replica ({}) is now the scheduler", view.getLocalMember().getId());
            book.resetClaims();
            schedulerWriter.fence();
            reader.catchUp();
            listPods();
        } else if (!isLeader && leader.compareAndSet(true, false)) {
            LOG.warn("This replica ({}) is no longer the scheduler", view.getLocalMember().getId());
            book.resetClaims();
        }
    }

    /** Counts the pods a previous leader left against the capacity before anything launches. */
    private void listPods() {
        try {
            Map<String, PodNames.Listed> listed = PodNames.listed(pods.listGamePods());
            book.podsListed(listed);
            LOG.info("{} game pods exist; those that have not ended count against the capacity", listed.size());
        } catch (RuntimeException e) {
            LOG.warn("Cannot list game pods yet ({}); the relist will, and nothing launches until then", e.toString());
        }
    }
}
