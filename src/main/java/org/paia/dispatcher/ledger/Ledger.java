package org.paia.dispatcher.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.paia.dispatcher.events.GameEvent;
import org.paia.dispatcher.events.GameEvents;
import org.paia.dispatcher.kafka.FatalDispatcherException;
import org.paia.dispatcher.kafka.TransactionalWriter;
import org.paia.dispatcher.schedule.TaskBook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's writes to the ledger topic, behind {@code paia-tx:ledger}. Each call's records are
 * committed atomically in one Kafka transaction; once committed, its entries are applied to the
 * {@link TaskBook} at once (the ledger reader applies them again later, which changes nothing).
 *
 * <p>Group commit: calls that arrive while a transaction is committing (games ending together, on
 * the parallel finish threads) wait and are then committed together in the next transaction, so a
 * batch of many instances is not bound by one commit round-trip per outcome. If a shared
 * transaction fails for a reason that may lie in one call's records (not a fenced producer nor an
 * unreachable broker), each call of the group is tried alone, so one bad record fails only its own call.
 */
public class Ledger {

    private static final Logger LOG = LoggerFactory.getLogger(Ledger.class);

    private final TransactionalWriter writer;
    private final ObjectMapper mapper;
    private final String topic;
    private final TaskBook book;
    private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final Object committing = new Object();
    private final List<Consumer<LedgerEntry>> committedListeners = new CopyOnWriteArrayList<>();
    private final GameEvents events;

    /** One call's write, what of it was committed, and how its commit ended. */
    private static final class Pending {
        final LedgerWrite write;
        List<LedgerEntry> kept = List.of();
        /** Not written at all: a second completion of a completed room. */
        boolean dropped;
        boolean done;
        RuntimeException failure;

        Pending(LedgerWrite write) {
            this.write = write;
        }
    }

    /**
     * What a commit does with a record of a run's stage and its event: write both; drop both (recorded already);
     * send the event again marked as a replay and drop the record (a further stage is recorded: the key's latest
     * record must not go back); or send the event as a replay and write the record (the same stage again).
     */
    private enum Decision { KEEP, DROP, REPLAY, REPLAY_KEEP }

    /** Run stages, outcomes and completions recorded by the writes before this one in the same group, not yet applied. */
    private static final class Overlay {
        final Map<String, TaskBook.Stage> stages = new HashMap<>();
        final Map<String, Integer> outcomes = new HashMap<>();
        final java.util.Set<String> completed = new java.util.HashSet<>();
    }

    public Ledger(TransactionalWriter writer, ObjectMapper mapper, String topic, TaskBook book, GameEvents events) {
        this.writer = writer;
        this.mapper = mapper;
        this.topic = topic;
        this.book = book;
        this.events = events;
    }

    /**
     * Writes the other records (e.g. the result message), the ledger entries, tombstones for the deleted keys
     * and the write's lifecycle events in one transaction; once committed, the entries and tombstones are applied
     * to the book, in that order. The routes call it through {@code paia-tx:ledger}.
     *
     * <p>A run's stage records ({@code INSTANCE_RUNNING}, {@code INSTANCE_UPLOADING}) and outcomes are checked
     * against what is recorded when the transaction is formed (under the commit lock, so against every earlier
     * commit of this scheduler and the earlier writes of the same group): a stage or outcome recorded already is
     * not written again and its event is not sent again, so each event is sent once and in order whatever the
     * threads that report it race. An upload recorded already and done again (a takeover, a finish retried) sends
     * its UPLOADING event again, marked as a replay. Each event carries the task's progress at its commit.
     */
    public void write(LedgerWrite write) {
        if (write.isEmpty()) {
            return;
        }
        Pending mine = new Pending(write);
        queue.add(mine);
        synchronized (committing) {
            if (!mine.done) {
                List<Pending> group = new ArrayList<>();
                for (Pending p = queue.poll(); p != null; p = queue.poll()) {
                    group.add(p);
                }
                commit(group);
            }
        }
        if (mine.failure != null) {
            throw mine.failure;
        }
    }

    private void commit(List<Pending> group) {
        try {
            List<ProducerRecord<String, byte[]>> all = new ArrayList<>();
            Overlay overlay = new Overlay();
            for (Pending p : group) {
                all.addAll(render(p, overlay));
            }
            if (!all.isEmpty()) {
                writer.write(all);
            }
        } catch (FatalDispatcherException | RetriableException e) {
            // Nothing record-specific (fenced, broker unreachable): every call of the group fails alike.
            group.forEach(p -> failed(p, e));
            return;
        } catch (RuntimeException e) {
            if (group.size() == 1) {
                failed(group.get(0), e);
                return;
            }
            for (Pending p : group) {
                commit(List.of(p));
            }
            return;
        }
        // Committed: applied outside the try, so that nothing failing here can make the group commit again.
        group.forEach(this::applied);
    }

    /** The records of one write, as they commit now: its entries as decided against what is recorded, its events. */
    private List<ProducerRecord<String, byte[]>> render(Pending p, Overlay overlay) {
        LedgerWrite write = p.write;
        String completes = completedRoom(write);
        if (completes != null) {
            if (book.completion(completes) != null || overlay.completed.contains(completes)) {
                // A second completion of the same room (e.g. Camel's aggregation recovery racing the completion it
                // checks for): its result is out already. Nothing of it is written: one result per room.
                LOG.warn("Completion of room {} not written: the room is completed already, its result is out", completes);
                p.kept = List.of();
                p.dropped = true;
                return List.of();
            }
            overlay.completed.add(completes);
        }
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>(write.others());
        List<LedgerEntry> kept = new ArrayList<>();
        Map<String, Decision> decisions = new HashMap<>();
        for (LedgerEntry entry : write.entries()) {
            Decision decision = decide(entry, overlay);
            if (entry.type().stage() > 0 && entry.instance() != null) {
                decisions.put(stageKey(entry.roomId(), entry.instance(), entry.type()), decision);
            }
            if (decision == Decision.KEEP || decision == Decision.REPLAY_KEEP) {
                kept.add(entry);
                records.add(toRecord(entry));
                if (entry.type().stage() > 0 && entry.instance() != null && entry.attempt() != null) {
                    overlay.stages.merge(LedgerEntry.instanceKey(entry.roomId(), entry.instance()),
                            new TaskBook.Stage(entry.attempt(), entry.type().stage()), TaskBook.Stage::max);
                    if (entry.type() == LedgerEntry.Type.INSTANCE_OUTCOME) {
                        overlay.outcomes.merge(entry.roomId(), 1, Integer::sum);
                    }
                }
            }
        }
        for (String key : write.deletedKeys()) {
            records.add(new ProducerRecord<>(topic, key, null));
        }
        for (GameEvent event : write.events()) {
            Decision decision = event.instance() == null ? Decision.KEEP
                    : decisions.getOrDefault(stageKey(event.roomId(), event.instance(), entryType(event)), Decision.KEEP);
            if (decision == Decision.DROP) {
                continue;
            }
            GameEvent out = decision == Decision.REPLAY || decision == Decision.REPLAY_KEEP ? event.asReplay() : event;
            GameEvent.Progress progress = book.progress(event.roomId());
            if (progress != null) {
                out = out.withProgress(new GameEvent.Progress(progress.instances(),
                        Math.min(progress.instances(), progress.finished() + overlay.outcomes.getOrDefault(event.roomId(), 0))));
            }
            records.add(events.toRecord(out));
        }
        p.kept = kept;
        return records;
    }

    /** The room a write completes with its result message (a TASK_COMPLETED with other records), or null. */
    private static String completedRoom(LedgerWrite write) {
        if (write.others().isEmpty()) {
            return null; // a completion record written again (LedgerLifecycle's reassertion) carries no result
        }
        return write.entries().stream().filter(e -> e.type() == LedgerEntry.Type.TASK_COMPLETED)
                .map(LedgerEntry::roomId).findFirst().orElse(null);
    }

    private Decision decide(LedgerEntry entry, Overlay overlay) {
        LedgerEntry.Type type = entry.type();
        if (entry.instance() == null || entry.attempt() == null || type.stage() == 0) {
            return Decision.KEEP;
        }
        TaskBook.Stage recorded = TaskBook.Stage.max(book.recordedStage(entry.roomId(), entry.instance()),
                overlay.stages.get(LedgerEntry.instanceKey(entry.roomId(), entry.instance())));
        if (recorded != null && recorded.level() >= LedgerEntry.Type.INSTANCE_OUTCOME.stage()) {
            return Decision.DROP; // the instance has its outcome: the first one stands
        }
        TaskBook.Stage mine = new TaskBook.Stage(entry.attempt(), type.stage());
        if (recorded == null || recorded.compareTo(mine) < 0) {
            return Decision.KEEP;
        }
        if (recorded.attempt() != entry.attempt()) {
            return Decision.DROP; // a later attempt is under way
        }
        if (type == LedgerEntry.Type.INSTANCE_LAUNCHED) {
            // The same attempt launched again: a new scheduler adopts or creates its pod (a takeover), or a failed
            // launch is tried again. Its STARTING is a replay; the record is written only while it is the latest.
            return recorded.equals(mine) ? Decision.REPLAY_KEEP : Decision.REPLAY;
        }
        return type == LedgerEntry.Type.INSTANCE_UPLOADING && recorded.equals(mine) ? Decision.REPLAY : Decision.DROP;
    }

    private static String stageKey(String room, int instance, LedgerEntry.Type type) {
        return room + "/" + instance + "/" + type;
    }

    /** The ledger record whose commit an instance event reports. */
    private static LedgerEntry.Type entryType(GameEvent event) {
        return switch (event.event()) {
            case STARTING -> LedgerEntry.Type.INSTANCE_LAUNCHED;
            case RUNNING -> LedgerEntry.Type.INSTANCE_RUNNING;
            case UPLOADING -> LedgerEntry.Type.INSTANCE_UPLOADING;
            case FINISHED -> LedgerEntry.Type.INSTANCE_OUTCOME;
            default -> LedgerEntry.Type.TASK_ACCEPTED;
        };
    }

    private void applied(Pending p) {
        try {
            for (LedgerEntry entry : p.kept) {
                committedListeners.forEach(listener -> listener.accept(entry));
                book.apply(entry);
            }
            if (!p.dropped) {
                p.write.deletedKeys().forEach(book::applyTombstone);
            }
        } catch (RuntimeException e) {
            // The records are committed; the ledger reader applies them again. Never a reason to write them twice.
            LOG.error("Committed ledger records could not be applied at once (the ledger reader applies them): {}",
                    e.toString(), e);
        }
        p.done = true;
    }

    private static void failed(Pending p, RuntimeException e) {
        p.failure = e;
        p.done = true;
    }

    /** Called with each entry this process has committed, before it is applied (metrics). */
    public void addCommittedListener(Consumer<LedgerEntry> listener) {
        committedListeners.add(listener);
    }

    public ProducerRecord<String, byte[]> toRecord(LedgerEntry entry) {
        try {
            return new ProducerRecord<>(topic, entry.key(), mapper.writeValueAsBytes(entry));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("ledger entry cannot be serialised: " + entry.type(), e);
        }
    }
}
