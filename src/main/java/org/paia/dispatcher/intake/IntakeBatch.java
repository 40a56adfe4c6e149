package org.paia.dispatcher.intake;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.paia.dispatcher.kafka.ConsumedOffset;
import org.paia.dispatcher.schedule.TaskBook;

/**
 * The verdicts on one polled batch of tasks, gathered by the {@code task-intake} route's split and committed
 * by {@code paia-tx:intake} in one Kafka transaction: every record of every verdict and the offset of every
 * task consumed. The rooms it accepts count for the duplicate check of the tasks after them in the batch,
 * before anything is committed. Used by one route thread at a time (the split is sequential).
 */
public final class IntakeBatch {

    /** One task's verdict, for the listeners once the batch committed. */
    public record Verdict(String verdict, String room, String rejection) {
    }

    private final List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
    private final List<ConsumedOffset> consumed = new ArrayList<>();
    private final List<Verdict> verdicts = new ArrayList<>();
    private final Set<String> acceptedRooms = new HashSet<>();
    private final Set<String> cancelledRooms = new HashSet<>();
    /** Per GPU pool: the priority rank and instances of each task this batch has accepted so far. */
    private final java.util.Map<String, List<int[]>> queued = new java.util.HashMap<>();
    /** The book's queue of each pool and class, read once per batch: the tasks of a batch are judged within ms. */
    private final java.util.Map<String, TaskBook.QueuePlace> bookPlaces = new java.util.HashMap<>();

    /**
     * The place an accepted task takes in its pool's queue: behind what the book has waiting there (read once per
     * pool and class for the whole batch, not once per task: the intake's hot path) and behind the tasks this batch
     * accepted before it that go first (no lower in class: a lower rank number). Counts the task in.
     */
    TaskBook.QueuePlace queue(String pool, int rank, int instances, java.util.function.Supplier<TaskBook.QueuePlace> book) {
        TaskBook.QueuePlace base = bookPlaces.computeIfAbsent(pool + "/" + rank, key -> book.get());
        List<int[]> tasks = queued.computeIfAbsent(pool, p -> new ArrayList<>());
        int tasksAhead = 0;
        int podsAhead = 0;
        for (int[] t : tasks) {
            if (t[0] <= rank) {
                tasksAhead++;
                podsAhead += t[1];
            }
        }
        tasks.add(new int[] {rank, instances});
        return new TaskBook.QueuePlace(base.position() + tasksAhead, base.podsAhead() + podsAhead, base.podsActive());
    }

    void add(List<ProducerRecord<String, byte[]>> verdictRecords, ConsumedOffset offset, Verdict verdict) {
        records.addAll(verdictRecords);
        consumed.add(offset);
        verdicts.add(verdict);
        if ("accepted".equals(verdict.verdict())) {
            acceptedRooms.add(verdict.room());
        } else if (IntakeRecords.CANCEL_REQUESTED.equals(verdict.verdict())) {
            cancelledRooms.add(verdict.room());
        }
    }

    boolean cancels(String room) {
        return cancelledRooms.contains(room);
    }

    boolean accepts(String room) {
        return acceptedRooms.contains(room);
    }

    /** Every record of every verdict, in the order of the tasks. */
    public List<ProducerRecord<String, byte[]>> records() {
        return Collections.unmodifiableList(records);
    }

    /** The offset of every task consumed, in the order consumed. */
    public List<ConsumedOffset> consumed() {
        return Collections.unmodifiableList(consumed);
    }

    public List<Verdict> verdicts() {
        return Collections.unmodifiableList(verdicts);
    }

    public int size() {
        return verdicts.size();
    }

    @Override
    public String toString() {
        return "IntakeBatch[" + verdicts.size() + " tasks, " + records.size() + " records]";
    }
}
