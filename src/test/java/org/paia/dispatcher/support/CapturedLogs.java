package org.paia.dispatcher.support;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Logback appender on the root logger (logback-test.xml) that keeps the full text of every log
 * event of the test JVM, from the first line of the Spring context's start: message pattern,
 * formatted message, each argument, MDC, and the throwable's classes, messages and stack, causes
 * and suppressed included. Bounded: past {@link #MAX_CHARS} characters the oldest events go first.
 */
public class CapturedLogs extends AppenderBase<ILoggingEvent> {

    static final long MAX_CHARS = 64L * 1024 * 1024;

    private static final ConcurrentLinkedDeque<String> EVENTS = new ConcurrentLinkedDeque<>();
    private static final AtomicLong CHARS = new AtomicLong();

    @Override
    protected void append(ILoggingEvent event) {
        StringBuilder text = new StringBuilder();
        text.append(event.getLoggerName()).append(' ').append(event.getLevel()).append(' ')
                .append(event.getMessage()).append('\n').append(event.getFormattedMessage());
        if (event.getArgumentArray() != null) {
            Arrays.stream(event.getArgumentArray()).forEach(a -> text.append('\n').append(a));
        }
        Map<String, String> mdc = event.getMDCPropertyMap();
        if (mdc != null && !mdc.isEmpty()) {
            text.append('\n').append(mdc);
        }
        appendThrowable(text, event.getThrowableProxy(), 0);
        EVENTS.addLast(text.toString());
        long total = CHARS.addAndGet(text.length());
        while (total > MAX_CHARS) {
            String oldest = EVENTS.pollFirst();
            if (oldest == null) {
                break;
            }
            total = CHARS.addAndGet(-oldest.length());
        }
    }

    private static void appendThrowable(StringBuilder text, IThrowableProxy t, int depth) {
        if (t == null || depth > 20) {
            return;
        }
        text.append('\n').append(t.getClassName()).append(": ").append(t.getMessage());
        if (t.getStackTraceElementProxyArray() != null) {
            for (StackTraceElementProxy frame : t.getStackTraceElementProxyArray()) {
                text.append("\n\t").append(frame.getSTEAsString());
            }
        }
        appendThrowable(text, t.getCause(), depth + 1);
        if (t.getSuppressed() != null) {
            for (IThrowableProxy suppressed : t.getSuppressed()) {
                appendThrowable(text, suppressed, depth + 1);
            }
        }
    }

    /** Every captured event's text, oldest first. */
    public static List<String> events() {
        return new ArrayList<>(EVENTS);
    }
}
