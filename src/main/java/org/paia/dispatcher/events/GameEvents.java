package org.paia.dispatcher.events;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Lifecycle events as records of the events topic ({@code paia.kafka.events-topic}), keyed by room so that a
 * room's events stay in order. They are only ever written inside the transaction of the change they report
 * (the intake's, or a {@code paia-tx:ledger} write): a consumer reading {@code read_committed} sees an event
 * exactly when the change is durable.
 */
public class GameEvents {

    private final ObjectMapper mapper;
    private final String topic;

    public GameEvents(ObjectMapper mapper, String topic) {
        this.mapper = mapper;
        this.topic = topic;
    }


    public ProducerRecord<String, byte[]> toRecord(GameEvent event) {
        return toRecord(event.roomId(), event);
    }

    /** The event under another key: the Kafka key of a message whose room could not be read. */
    public ProducerRecord<String, byte[]> toRecord(String key, GameEvent event) {
        try {
            return new ProducerRecord<>(topic, key, mapper.writeValueAsBytes(event));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("event cannot be serialised: " + event.event(), e);
        }
    }
}
