package org.paia.dispatcher.config;

/**
 * Names of the Kafka record headers the dispatcher writes (the dead-letter copy's). Inside the routes,
 * the dispatcher's own objects travel in exchange variables, not headers.
 */
public final class Headers {

    public static final String DLQ_REASON = "paia.error.reason";
    public static final String DLQ_ERROR_CLASS = "paia.error.class";
    public static final String DLQ_SOURCE_TOPIC = "paia.source.topic";
    public static final String DLQ_SOURCE_PARTITION = "paia.source.partition";
    public static final String DLQ_SOURCE_OFFSET = "paia.source.offset";

    private Headers() {
    }
}
