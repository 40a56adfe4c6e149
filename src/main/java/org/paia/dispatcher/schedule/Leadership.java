package org.paia.dispatcher.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.camel.CamelContext;
import org.apache.camel.cluster.CamelClusterEventListener;
import org.apache.camel.cluster.CamelClusterService;
import org.apache.camel.cluster.CamelClusterView;
import org.apache.camel.spring.boot.CamelContextConfiguration;
import org.paia.dispatcher.failures.FatalErrors;
import org.paia.dispatcher.kafka.FatalDispatcherException;
import org.paia.dispatcher.kafka.TransactionalWriter;
import org.paia.dispatcher.ledger.LedgerReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;

/**
 * One scheduler at a time: the {@code master:scheduler:...} routes run only on the replica that
 * Camel's Kubernetes cluster service names leader, and this class decides when that replica really
 * schedules. Intake keeps running on every replica.
 *
 * <p>Camel's view is not enough on its own. Its notifier reports whoever the Lease names, so a replica
 * restarted under the same pod name is told it leads before it is started, and before it is even a
 * candidate (Ready), while the Lease still names its dead predecessor. So this replica schedules only
 * once the application is ready and the Lease names it with an acquire or renew time written since
 * this process started: only its own leadership controller writes that. Nor does Camel always say when
 * leadership ends: a leader whose pod stops being Ready loses it, but Camel 4.18's controller, failing to
 * acquire again, keeps telling its notifier that the Lease's holder (still this replica) leads, with a
 * fresh timestamp every retry period, and the one notice of the loss is dropped when that overtakes it.
 * So while it schedules, this replica checks every retry period that it still holds the Lease, and stops
 * scheduling once it does not (or once it could not tell for a whole lease duration).
 *
 * <p>On every acquisition this replica first fences the previous scheduler — it initialises a new
 * producer with the shared scheduler transactional id, which aborts whatever the old one left open and
 * rejects its late writes; a replica leading a second time must not reuse the producer that the leader
 * in between fenced — then reads the ledger to its current end and lists the game pods, and only then
 * lets the book claim anything: a takeover never acts on a picture older than the old leader's last
 * committed write.
 */
public class Leadership implements CamelContextConfiguration, ApplicationListener<ApplicationReadyEvent>,
        AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);

    public static final String NAMESPACE = "scheduler";

    private final CamelClusterService clusterService;
    private final TaskBook book;
    private final LedgerReader reader;
    private final TransactionalWriter schedulerWriter;
    private final SchedulerLease lease;
    private final FatalErrors fatalErrors;
    private final Duration retryPeriod;
    private final Duration leaseDuration;
    /** Lease times written at or after this instant were written by this process. */
    private final Instant startedAt = Instant.now();
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "scheduler-leadership");
        t.setDaemon(true);
        return t;
    });
    private volatile CamelClusterView view;
    private volatile org.apache.camel.ProducerTemplate relists;
    private volatile boolean ready;
    private volatile boolean leader;
    private volatile boolean waitingForLease;
    private Future<?> recheck;
    private Future<?> holding;
    private long confirmedNanos;

    public Leadership(CamelClusterService clusterService, TaskBook book, LedgerReader reader,
                      TransactionalWriter schedulerWriter, SchedulerLease lease, FatalErrors fatalErrors,
                      Duration retryPeriod, Duration leaseDuration) {
        this.clusterService = clusterService;
        this.book = book;
        this.reader = reader;
        this.schedulerWriter = schedulerWriter;
        this.lease = lease;
        this.fatalErrors = fatalErrors;
        this.retryPeriod = retryPeriod;
        this.leaseDuration = leaseDuration;
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
            CamelClusterView v = clusterService.getView(NAMESPACE);
            v.addEventListener((CamelClusterEventListener.Leadership) (changed, member) -> evaluateSoon());
            view = v;
            relists = camelContext.createProducerTemplate();
        } catch (Exception e) {
            throw new IllegalStateException("cannot join the scheduler's leader election", e);
        }
    }

    /** Nothing is scheduled before the application is started (and so ready to be a Lease candidate). */
    @Override
    public void onApplicationEvent(ApplicationReadyEvent event) {
        ready = true;
        evaluateSoon();
    }

    /** Whether this replica is the scheduler now. */
    public boolean isLeader() {
        return leader;
    }

    private void evaluateSoon() {
        try {
            executor.execute(this::evaluate);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    private boolean named() {
        CamelClusterView v = view;
        return v != null && v.getLocalMember().isLeader();
    }

    /** Runs on the leadership thread only, so acquisitions and losses never overlap. */
    private void evaluate() {
        if (recheck != null) {
            recheck.cancel(false);
            recheck = null;
        }
        boolean wanted = ready && named();
        if (wanted && !leader) {
            if (!lease.heldSince(startedAt, leaseDuration)) {
                if (!waitingForLease) {
                    waitingForLease = true;
                    LOG.info("The scheduler Lease names this replica ({}), but this process does not hold it (not "
                            + "Ready, or not acquired or renewed by this process yet): not scheduling until it does",
                            lease.podName());
                }
                recheck = executor.schedule(this::evaluate, retryPeriod.toMillis(), TimeUnit.MILLISECONDS);
                return;
            }
            waitingForLease = false;
            acquire();
        } else if (!wanted) {
            waitingForLease = false;
            if (leader) {
                lose();
            }
        }
    }

    private void acquire() {
        long started = System.nanoTime();
        book.resetClaims();
        try {
            schedulerWriter.fence();
        } catch (FatalDispatcherException e) {
            fatalErrors.record("scheduler-leadership", e);
            return;
        } catch (RuntimeException e) {
            LOG.warn("Cannot fence the previous scheduler yet ({}); trying again", e.toString());
            recheck = executor.schedule(this::evaluate, retryPeriod.toMillis(), TimeUnit.MILLISECONDS);
            return;
        }
        if (!caughtUp()) {
            return;
        }
        leader = true;
        confirmedNanos = System.nanoTime();
        holding = executor.scheduleWithFixedDelay(this::checkHeld, retryPeriod.toMillis(), retryPeriod.toMillis(),
                TimeUnit.MILLISECONDS);
        book.startScheduling();
        relist();
        LOG.info("This replica ({}) is now the scheduler: previous scheduler fenced, ledger read to its end, in {} ms",
                lease.podName(), (System.nanoTime() - started) / 1_000_000);
    }

    /** Waits until the ledger has been read to its current end; false if leadership went away meanwhile. */
    private boolean caughtUp() {
        var done = reader.catchUp();
        while (true) {
            try {
                done.get(retryPeriod.toMillis(), TimeUnit.MILLISECONDS);
                return true;
            } catch (TimeoutException e) {
                if (!named()) {
                    evaluateSoon();
                    return false;
                }
            } catch (ExecutionException e) {
                LOG.error("Cannot read the ledger to its end: not scheduling", e.getCause());
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /**
     * While scheduling: does this replica still hold the Lease? Stops scheduling when it does not, or when
     * the Lease could not be read for a whole lease duration; then waits, as at start, for Camel's view and
     * the Lease to agree again.
     */
    private void checkHeld() {
        if (!leader) {
            return;
        }
        SchedulerLease.Held held = lease.held(startedAt, leaseDuration);
        if (held == SchedulerLease.Held.YES) {
            confirmedNanos = System.nanoTime();
            return;
        }
        if (held == SchedulerLease.Held.UNKNOWN && System.nanoTime() - confirmedNanos < leaseDuration.toNanos()) {
            return;
        }
        LOG.warn("This replica ({}) no longer holds the scheduler Lease ({}), though Camel's view still names it",
                lease.podName(), held == SchedulerLease.Held.NO ? "not Ready, or not renewed within the lease duration"
                        : "it could not be read for the lease duration");
        lose();
        evaluate();
    }

    private void lose() {
        if (holding != null) {
            holding.cancel(false);
            holding = null;
        }
        leader = false;
        book.stopScheduling();
        book.resetClaims();
        LOG.warn("This replica ({}) is no longer the scheduler", lease.podName());
    }

    /**
     * Lists the game pods now ({@code pod-relist}) rather than at the next relist tick: the pods a previous
     * leader left count against the capacity, and nothing launches before a listing. Sent asynchronously:
     * the listing talks to the API server, and this thread must stay free to notice a lost Lease.
     */
    private void relist() {
        relists.asyncSendBody(RELIST, null).whenComplete((done, failure) -> {
            if (failure != null) {
                LOG.warn("Cannot list game pods yet ({}); the relist will, and nothing launches until then",
                        failure.toString());
            }
        });
    }

    /** The pod-relist route's endpoint. */
    static final String RELIST = "direct:relistPods";

    @Override
    public void close() {
        ready = false;
        executor.shutdownNow();
        if (leader) {
            leader = false;
            book.stopScheduling();
        }
    }
}
