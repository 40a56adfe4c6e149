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
import java.util.Set;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.paia.dispatcher.config.Headers;
import org.paia.dispatcher.kafka.ConsumedOffset;
import org.paia.dispatcher.kafka.TransactionalWriter;
import org.paia.dispatcher.ledger.Ledger;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.results.ResultMessage;
import org.paia.dispatcher.schedule.TaskBook;
import org.paia.dispatcher.task.GameTask;
import org.paia.dispatcher.task.TaskParser;
import org.paia.dispatcher.task.TaskRejectedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-process-write for one task message: validate it, then write either its acceptance to the
 * ledger, or a {@code REJECTED} result plus a dead-letter copy — and the consumed offset — in one
 * Kafka transaction. No blob or pod side effects here, so it is fast and safe to repeat.
 */
public class TaskIntake implements Processor {

    private static final Logger LOG = LoggerFactory.getLogger(TaskIntake.class);

    private final TaskParser parser;
    private final TransactionalWriter writer;
    private final Ledger ledgerFormat;
    private final ObjectMapper mapper;
    private final String resultTopic;
    private final String deadLetterTopic;
    private final Clock clock;
    private final TaskBook book;
    private final Set<String> recentlyAccepted = Collections.synchronizedSet(Collections.newSetFromMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > 10_000;
        }
    }));

    public TaskIntake(TaskParser parser, TransactionalWriter writer, Ledger ledgerFormat, ObjectMapper mapper,
                      String resultTopic, String deadLetterTopic, Clock clock, TaskBook book) {
        this.parser = parser;
        this.writer = writer;
        this.ledgerFormat = ledgerFormat;
        this.mapper = mapper;
        this.resultTopic = resultTopic;
        this.deadLetterTopic = deadLetterTopic;
        this.clock = clock;
        this.book = book;
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        byte[] raw = exchange.getIn().getBody(byte[].class);
        String key = exchange.getIn().getHeader(KafkaConstants.KEY, String.class);
        ConsumedOffset consumed = exchange.getIn().getHeader(KafkaConstants.MANUAL_COMMIT, ConsumedOffset.class);
        if (consumed == null) {
            throw new IllegalStateException("task-intake must consume with kafkaManualCommitFactory=#transactionalCommitFactory");
        }
        List<ProducerRecord<String, byte[]>> records;
        try {
            GameTask task = parser.parse(raw);
            rejectDuplicate(task.roomId());
            records = List.of(ledgerFormat.toRecord(LedgerEntry.accepted(task.roomId(), task.data(), clock.instant())));
            exchange.getIn().setHeader(Headers.ROOM_ID, task.roomId());
            exchange.getIn().setHeader(Headers.INTAKE_VERDICT, "accepted");
            LOG.info("Task {} accepted ({} from {}-{}@{})", task.roomId(), task.gameName(),
                    consumed.partition().topic(), consumed.partition().partition(), consumed.offset());
        } catch (TaskRejectedException rejected) {
            records = rejection(raw, key, consumed, rejected);
            exchange.getIn().setHeader(Headers.INTAKE_VERDICT, "rejected");
            exchange.getIn().setHeader(Headers.INTAKE_REJECTION, loggable(rejected.getMessage()));
            LOG.warn("Task rejected at {}-{}@{} (room {}): {}", consumed.partition().topic(),
                    consumed.partition().partition(), consumed.offset(), rejected.roomId(), loggable(rejected.getMessage()));
        }
        writer.write(records, consumed);
        if ("accepted".equals(exchange.getIn().getHeader(Headers.INTAKE_VERDICT))) {
            recentlyAccepted.add(exchange.getIn().getHeader(Headers.ROOM_ID, String.class));
        }
    }

    /**
     * A rejection reason fit for the log: a JSON parser's message quotes the text it choked on, which
     * may be anything of the message (a ws_uri token), so everything from its first quote to its last is
     * dropped. The REJECTED result keeps the full reason for the sender.
     */
    static String loggable(String reason) {
        return reason != null && reason.startsWith("malformed JSON") ? reason.replaceAll("(?s)'.*'", "'…'") : reason;
    }

    /**
     * A room gets one task. Known rooms come from the ledger (as far as this replica has read it) and
     * from this intake's own recent acceptances, which the ledger reader may not have seen yet. Should a
     * duplicate slip through anyway (a rebalance right after the first acceptance), the scheduler
     * ignores the second acceptance: the room still gets exactly one run and one result.
     */
    private void rejectDuplicate(String roomId) {
        if (book.isKnown(roomId) || recentlyAccepted.contains(roomId)) {
            throw new TaskRejectedException("duplicate task: room_id " + roomId + " already has a task", roomId);
        }
    }

    private List<ProducerRecord<String, byte[]>> rejection(byte[] raw, String key, ConsumedOffset consumed,
                                                           TaskRejectedException rejected) throws JsonProcessingException {
        String roomId = rejected.roomId();
        JsonNode data = bestEffortData(raw);
        Long gameId = data.path("game_id").isIntegralNumber() ? data.path("game_id").asLong() : null;
        String gameName = data.path("game_name").asText("").matches("[A-Za-z0-9_.-]{1,64}") ? data.path("game_name").asText() : null;
        ResultMessage result = ResultMessage.rejected(roomId, gameId, gameName, rejected.getMessage(), clock.instant());
        String resultKey = roomId != null ? roomId : key;
        ProducerRecord<String, byte[]> resultRecord =
                new ProducerRecord<>(resultTopic, resultKey, mapper.writeValueAsBytes(result));
        // The dead-letter copy keeps the original bytes untouched, with where they came from and why.
        ProducerRecord<String, byte[]> deadLetter = new ProducerRecord<>(deadLetterTopic, key, raw);
        deadLetter.headers()
                .add(Headers.DLQ_REASON, utf8(rejected.getMessage()))
                .add(Headers.DLQ_ERROR_CLASS, utf8("VALIDATION"))
                .add(Headers.DLQ_SOURCE_TOPIC, utf8(consumed.partition().topic()))
                .add(Headers.DLQ_SOURCE_PARTITION, utf8(Integer.toString(consumed.partition().partition())))
                .add(Headers.DLQ_SOURCE_OFFSET, utf8(Long.toString(consumed.offset())));
        return List.of(resultRecord, deadLetter);
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
