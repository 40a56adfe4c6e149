package org.paia.dispatcher.intake;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.paia.dispatcher.config.Headers;
import org.paia.dispatcher.events.GameEvent;
import org.paia.dispatcher.events.GameEvents;
import org.paia.dispatcher.kafka.ConsumedOffset;
import org.paia.dispatcher.kafka.IntakeOffsets;
import org.paia.dispatcher.ledger.Ledger;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.results.ResultMessage;
import org.paia.dispatcher.schedule.TaskBook;
import org.paia.dispatcher.task.CancelCommand;
import org.paia.dispatcher.task.GameTask;
import org.paia.dispatcher.task.TaskParser;
import org.paia.dispatcher.task.TaskRejectedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The records of the intake's verdict on each task of a polled batch, gathered in an {@link IntakeBatch} for
 * the {@code task-intake} route to commit with the batch's consumed offsets ({@code paia-tx:intake}): a task's
 * acceptance on the ledger, or a {@code REJECTED} result and a dead-letter copy of the original bytes. Also the
 * duplicate check: a room gets one task. No I/O here.
 */
public class IntakeRecords {

    /** Exchange variables of the intake route (metrics read the verdict once the transaction committed). */
    public static final String ORIGINAL = "original";
    public static final String VERDICT = "verdict";
    public static final String ROOM = "room";
    public static final String REJECTION = "rejection";
    /** Verdicts on a cancel_cmd: recorded (its task is stopped), ignored (answered with an event), rejected (malformed). */
    public static final String CANCEL_REQUESTED = "cancel_requested";
    public static final String CANCEL_IGNORED = "cancel_ignored";
    public static final String CANCEL_REJECTED = "cancel_rejected";
    /** The batch being judged, shared by the parent exchange and each task's split exchange. */
    public static final String BATCH = "intakeBatch";

    private static final Logger LOG = LoggerFactory.getLogger(IntakeRecords.class);

    private final Ledger ledgerFormat;
    private final ObjectMapper mapper;
    private final String resultTopic;
    private final String deadLetterTopic;
    private final Clock clock;
    private final TaskBook book;
    private final GameEvents events;
    private final TaskParser parser;
    private final List<java.util.function.BiConsumer<String, String>> verdictListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Rooms this intake accepted, with when: the ledger reader may not have applied them yet. */
    private final Map<String, java.time.Instant> recentlyAccepted = Collections.synchronizedMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, java.time.Instant> eldest) {
            return size() > 10_000;
        }
    });
    /**
     * How long an acceptance of this intake stands for an open task that its book does not show: far longer than
     * the ledger reader takes to apply it, far shorter than the duplicate window after which a room is forgotten.
     */
    private static final java.time.Duration RECENT = java.time.Duration.ofMinutes(10);

    public IntakeRecords(Ledger ledgerFormat, ObjectMapper mapper, String resultTopic, String deadLetterTopic, Clock clock,
                         TaskBook book, GameEvents events, TaskParser parser) {
        this.events = events;
        this.parser = parser;
        this.ledgerFormat = ledgerFormat;
        this.mapper = mapper;
        this.resultTopic = resultTopic;
        this.deadLetterTopic = deadLetterTopic;
        this.clock = clock;
        this.book = book;
    }

    /** Starts the verdicts on a polled batch (camel-kafka's {@code batching=true}: the body lists its exchanges). */
    public void openBatch(Exchange exchange) {
        exchange.setVariable(BATCH, new IntakeBatch());
    }

    /**
     * One task record of the batch as the split exchange's message: its bytes, and its Kafka headers (key,
     * partition, offset, and the consumed offset the transaction commits).
     */
    public void readRecord(Exchange exchange) {
        Exchange record = exchange.getMessage().getBody(Exchange.class);
        if (record == null) {
            throw new IllegalStateException("task-intake must consume with batching=true: a split exchange's body is "
                    + "one record's exchange, not " + exchange.getMessage().getBody());
        }
        exchange.getMessage().setHeaders(new java.util.HashMap<>(record.getMessage().getHeaders()));
        exchange.getMessage().setBody(record.getMessage().getBody());
    }

    /**
     * Whether the task's room has a task already. Known rooms come from the ledger (as far as this replica
     * has read it), from this intake's own recent acceptances, which the ledger reader may not have seen
     * yet, and from the acceptances earlier in the same batch, not yet committed. Should a duplicate slip
     * through anyway (a rebalance right after the first acceptance), the scheduler ignores the second
     * acceptance: the room still gets exactly one run and one result.
     */
    public boolean isDuplicate(GameTask task, Exchange exchange) {
        IntakeBatch batch = exchange.getVariable(BATCH, IntakeBatch.class);
        return book.isKnown(task.roomId()) || recentlyAccepted.containsKey(task.roomId())
                || (batch != null && batch.accepts(task.roomId()));
    }

    /** Rejects a duplicate: the {@code doCatch} of the route turns it into a REJECTED result. */
    public void rejectDuplicate(GameTask task) {
        throw new TaskRejectedException("duplicate task: room_id " + task.roomId() + " already has a task", task.roomId());
    }

    /**
     * The acceptance of a valid task: its {@code TASK_ACCEPTED} ledger record, and its ACCEPTED and QUEUED events
     * (the place it takes in its pool's queue, as this replica sees it, behind the tasks accepted before it in
     * the same batch).
     */
    public List<ProducerRecord<String, byte[]>> accepted(GameTask task, Exchange exchange) {
        ConsumedOffset consumed = consumed(exchange);
        exchange.setVariable(VERDICT, "accepted");
        exchange.setVariable(ROOM, task.roomId());
        LOG.info("Task {} accepted ({} from {}-{}@{})", task.roomId(), task.gameName(),
                consumed.partition().topic(), consumed.partition().partition(), consumed.offset());
        java.time.Instant now = clock.instant();
        int rank = parser.priorities().rank(task.priority());
        IntakeBatch batch = exchange.getVariable(BATCH, IntakeBatch.class);
        TaskBook.QueuePlace place = batch == null ? book.queuePlace(task.pool(), rank, now)
                : batch.queue(task.pool(), rank, task.instances(), () -> book.queuePlace(task.pool(), rank, now));
        GameEvent.Progress progress = new GameEvent.Progress(task.instances(), 0);
        GameEvent acceptedEvent = GameEvent.task(GameEvent.Type.ACCEPTED, task.roomId(), now)
                .withPlacement(task.pool(), task.priority()).withProgress(progress);
        GameEvent queuedEvent = GameEvent.task(GameEvent.Type.QUEUED, task.roomId(), now)
                .withPlacement(task.pool(), task.priority()).withProgress(progress)
                .withQueue(place.position(), place.podsAhead(), place.podsActive());
        return List.of(ledgerFormat.toRecord(LedgerEntry.accepted(task.roomId(), task.data(), now)),
                events.toRecord(acceptedEvent), events.toRecord(queuedEvent));
    }

    /** The {@code command-type} choice: whether the message is a {@code cancel_cmd}. */
    public boolean isCancel(JsonNode root) {
        return parser.isCancel(root);
    }

    private boolean acceptedLately(String room, java.time.Instant now) {
        java.time.Instant at = recentlyAccepted.get(room);
        return at != null && at.plus(RECENT).isAfter(now);
    }

    /** Whether rejected bytes were a {@code cancel_cmd} (readable JSON whose type says so): never answered with a result. */
    private boolean isCancelMessage(byte[] raw) {
        try {
            return raw != null && parser.isCancel(parser.jsonMapper().readTree(raw));
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The verdict on a valid {@code cancel_cmd}. A room whose task is open (on the ledger, or accepted by this
     * intake or earlier in this batch) gets {@code CANCEL_REQUESTED} on the ledger with its CANCELLING event: the
     * scheduler drops its queued runs and stops its running games, and its one result says CANCELLED. Any other
     * room gets an answer, never an error or a result: a CANCEL_IGNORED event saying why (a cancel under way, the
     * task finished with its outcome, no such task).
     */
    public List<ProducerRecord<String, byte[]>> cancelRequested(CancelCommand cancel, Exchange exchange) {
        ConsumedOffset consumed = consumed(exchange);
        String room = cancel.roomId();
        exchange.setVariable(ROOM, room);
        IntakeBatch batch = exchange.getVariable(BATCH, IntakeBatch.class);
        java.time.Instant now = clock.instant();
        LedgerEntry done = book.completion(room);
        String ignored = null;
        if (book.isCancelled(room) || (batch != null && batch.cancels(room))) {
            ignored = "a cancel of room " + room + " is under way already";
        } else if (done != null) {
            ignored = "the task of room " + room + " has finished (" + done.outcome() + "): nothing to cancel";
        } else if (book.openTask(room) == null && !acceptedLately(room, now)
                && (batch == null || !batch.accepts(room))) {
            ignored = "no task of room " + room + " is known: never accepted, or finished before the duplicate window";
        }
        if (ignored != null) {
            exchange.setVariable(VERDICT, CANCEL_IGNORED);
            LOG.info("Cancel of room {} ignored ({}-{}@{}): {}", room, consumed.partition().topic(),
                    consumed.partition().partition(), consumed.offset(), ignored);
            return List.of(events.toRecord(GameEvent.task(GameEvent.Type.CANCEL_IGNORED, room, now).withReason(ignored)));
        }
        exchange.setVariable(VERDICT, CANCEL_REQUESTED);
        LOG.info("Cancel of room {} recorded ({}-{}@{})", room, consumed.partition().topic(),
                consumed.partition().partition(), consumed.offset());
        return List.of(ledgerFormat.toRecord(LedgerEntry.cancelRequested(room, cancel.reason(), now)),
                events.toRecord(GameEvent.task(GameEvent.Type.CANCELLING, room, now).withReason(cancel.reason())));
    }

    /**
     * The rejection of the task the route caught failing validation: a {@code REJECTED} result for the web
     * service, and the original bytes on the dead-letter topic with the reason and where they came from.
     */
    public List<ProducerRecord<String, byte[]>> rejected(Exchange exchange) throws JsonProcessingException {
        Exception caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        TaskRejectedException rejected = caught instanceof TaskRejectedException r ? r : TaskParser.malformed(caught);
        byte[] raw = exchange.getVariable(ORIGINAL, byte[].class);
        String key = exchange.getMessage().getHeader(KafkaConstants.KEY, String.class);
        ConsumedOffset consumed = consumed(exchange);
        exchange.setVariable(VERDICT, "rejected");
        exchange.setVariable(ROOM, rejected.roomId());
        exchange.setVariable(REJECTION, loggable(rejected.getMessage()));
        LOG.warn("Task rejected at {}-{}@{} (room {}): {}", consumed.partition().topic(),
                consumed.partition().partition(), consumed.offset(), rejected.roomId(), loggable(rejected.getMessage()));

        String roomId = rejected.roomId();
        // The dead-letter copy keeps the original bytes untouched, with where they came from and why.
        ProducerRecord<String, byte[]> deadLetter = new ProducerRecord<>(deadLetterTopic, key, raw);
        deadLetter.headers()
                .add(Headers.DLQ_REASON, utf8(rejected.getMessage()))
                .add(Headers.DLQ_ERROR_CLASS, utf8("VALIDATION"))
                .add(Headers.DLQ_SOURCE_TOPIC, utf8(consumed.partition().topic()))
                .add(Headers.DLQ_SOURCE_PARTITION, utf8(Integer.toString(consumed.partition().partition())))
                .add(Headers.DLQ_SOURCE_OFFSET, utf8(Long.toString(consumed.offset())));
        if (isCancelMessage(raw)) {
            // Never a result for a cancel: the room may have a task, whose one result it would be. An event answers.
            exchange.setVariable(VERDICT, CANCEL_REJECTED);
            String eventKey = roomId != null ? roomId : key;
            GameEvent answer = GameEvent.task(GameEvent.Type.CANCEL_IGNORED, roomId, clock.instant())
                    .withReason("cancel_cmd rejected: " + rejected.getMessage());
            return eventKey == null ? List.of(deadLetter)
                    : List.of(events.toRecord(eventKey, answer), deadLetter);
        }
        if (roomId == null && key != null && (book.isKnown(key) || recentlyAccepted.containsKey(key))) {
            // Unreadable (not JSON, too big, ...) and keyed by a room that has a task: a REJECTED result under that
            // key would read as the room's result, and the room has one of its own. The dead-letter copy only.
            LOG.warn("Unreadable message keyed by room {}, which has a task: dead-lettered, no result", key);
            return List.of(deadLetter);
        }
        JsonNode data = bestEffortData(raw);
        Long gameId = data.path("game_id").isIntegralNumber() ? data.path("game_id").asLong() : null;
        String gameName = data.path("game_name").asText("").matches("[A-Za-z0-9_.-]{1,64}") ? data.path("game_name").asText() : null;
        ResultMessage result = ResultMessage.rejected(roomId, gameId, gameName, rejected.getMessage(), clock.instant());
        String resultKey = roomId != null ? roomId : key;
        ProducerRecord<String, byte[]> resultRecord =
                new ProducerRecord<>(resultTopic, resultKey, mapper.writeValueAsBytes(result));
        return List.of(resultRecord, deadLetter);
    }

    /** Adds the task's verdict (its records, in the body) and its consumed offset to the batch. */
    public void addToBatch(List<ProducerRecord<String, byte[]>> records, Exchange exchange) {
        IntakeBatch batch = exchange.getVariable(BATCH, IntakeBatch.class);
        if (batch == null) {
            throw new IllegalStateException("no intake batch: task-intake opens one (open-batch) before its split");
        }
        batch.add(records, consumed(exchange), new IntakeBatch.Verdict(exchange.getVariable(VERDICT, String.class),
                exchange.getVariable(ROOM, String.class), exchange.getVariable(REJECTION, String.class)));
    }

    /**
     * The batch is committed: its accepted rooms count as known at once, before the ledger reader sees
     * them; listeners (metrics) hear of each verdict.
     */
    public void committed(IntakeBatch batch) {
        for (IntakeBatch.Verdict verdict : batch.verdicts()) {
            if ("accepted".equals(verdict.verdict())) {
                recentlyAccepted.put(verdict.room(), clock.instant());
            }
            if (verdict.verdict() != null) {
                verdictListeners.forEach(l -> l.accept(verdict.verdict(), verdict.rejection()));
            }
        }
        LOG.debug("Intake batch committed: {}", batch);
    }

    /** Called with each committed verdict, {@code accepted} or {@code rejected}, and the (loggable) rejection reason. */
    public void addVerdictListener(java.util.function.BiConsumer<String, String> listener) {
        verdictListeners.add(listener);
    }

    private static ConsumedOffset consumed(Exchange exchange) {
        return IntakeOffsets.consumed(exchange);
    }

    /**
     * A rejection reason fit for the log: a JSON parser's message quotes the text it choked on, which
     * may be anything of the message (a ws_uri token), so everything from its first quote to its last is
     * dropped. The REJECTED result keeps the full reason for the sender.
     */
    static String loggable(String reason) {
        return reason != null && reason.startsWith("malformed JSON") ? reason.replaceAll("(?s)'.*'", "'…'") : reason;
    }

    /** The task's data object if the bytes are readable JSON at all, to echo ids in the rejection. */
    private JsonNode bestEffortData(byte[] raw) {
        try {
            JsonNode root = raw == null ? null : mapper.readTree(raw);
            return root == null ? mapper.createObjectNode() : root.path("data");
        } catch (java.io.IOException | RuntimeException e) {
            return mapper.createObjectNode();
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
