package org.paia.dispatcher.config;

/** Names of the exchange and Kafka record headers the dispatcher sets. */
public final class Headers {

    public static final String ROOM_ID = "PaiaRoomId";
    public static final String INTAKE_VERDICT = "PaiaIntakeVerdict";
    /** Why intake rejected a task (metrics count it by class; never logged with the payload). */
    public static final String INTAKE_REJECTION = "PaiaIntakeRejection";
    public static final String GAME_RUN = "PaiaGameRun";

    public static final String DLQ_REASON = "paia.error.reason";
    public static final String DLQ_ERROR_CLASS = "paia.error.class";
    public static final String DLQ_SOURCE_TOPIC = "paia.source.topic";
    public static final String DLQ_SOURCE_PARTITION = "paia.source.partition";
    public static final String DLQ_SOURCE_OFFSET = "paia.source.offset";

    private Headers() {
    }
}
