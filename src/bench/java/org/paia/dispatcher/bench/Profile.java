package org.paia.dispatcher.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a dispatcher's Java CPU goes, from a JFR recording's execution samples ({@code jdk.ExecutionSample},
 * a thread caught running Java code, every 10 ms per thread with the "profile" settings): by thread pool
 * (which is the route stage: Camel names its threads after the endpoint they consume, and the routes' own
 * pools after the step that uses them) and by the library of the innermost frame.
 */
final class Profile {

    final long samples;
    final Map<String, Long> byThread;
    final Map<String, Long> byLibrary;

    private Profile(long samples, Map<String, Long> byThread, Map<String, Long> byLibrary) {
        this.samples = samples;
        this.byThread = byThread;
        this.byLibrary = byLibrary;
    }

    static Profile read(Path recording) throws IOException {
        return read(recording, Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /** As {@link #read(Path)}, the samples taken from {@code fromEpochMs} to {@code toEpochMs} only. */
    static Profile read(Path recording, long fromEpochMs, long toEpochMs) throws IOException {
        Map<String, Long> threads = new HashMap<>();
        Map<String, Long> libraries = new HashMap<>();
        long samples = 0;
        try (RecordingFile file = new RecordingFile(recording)) {
            while (file.hasMoreEvents()) {
                RecordedEvent event = file.readEvent();
                if (!"jdk.ExecutionSample".equals(event.getEventType().getName())) {
                    continue;
                }
                long at = event.getStartTime().toEpochMilli();
                if (at < fromEpochMs || at > toEpochMs) {
                    continue;
                }
                samples++;
                String thread = event.getThread("sampledThread") == null ? "?" : event.getThread("sampledThread").getJavaName();
                threads.merge(pool(thread), 1L, Long::sum);
                List<RecordedFrame> frames = event.getStackTrace() == null ? List.of() : event.getStackTrace().getFrames();
                String library = frames.isEmpty() ? "?" : library(frames.get(0).getMethod().getType().getName());
                libraries.merge(library, 1L, Long::sum);
            }
        }
        return new Profile(samples, threads, libraries);
    }

    /** A thread's name with its numbers dropped: the pool it belongs to. */
    static String pool(String thread) {
        if (thread == null) {
            return "?";
        }
        return thread.replaceAll("#\\d+", "#N").replaceAll("(?<=[-_ ])\\d+(?=$|[^0-9])", "N")
                .replaceAll("\\| [^|]*$", "| …").trim();
    }

    static String library(String type) {
        String[][] prefixes = {
            {"org.paia.", "dispatcher's own code"},
            {"org.apache.camel.", "Camel"},
            {"org.apache.kafka.", "Kafka client"},
            {"io.fabric8.", "fabric8 Kubernetes client"},
            {"okhttp3.", "fabric8's HTTP client (OkHttp/Vert.x)"},
            {"io.vertx.", "fabric8's HTTP client (OkHttp/Vert.x)"},
            {"com.azure.", "Azure SDK"},
            {"reactor.", "Azure SDK (Reactor, Netty)"},
            {"io.netty.", "Azure SDK (Reactor, Netty)"},
            {"com.fasterxml.jackson.", "Jackson (JSON, YAML)"},
            {"ch.qos.logback.", "logging"},
            {"org.slf4j.", "logging"},
            {"io.micrometer.", "metrics (Micrometer)"},
            {"org.springframework.", "Spring"},
            {"org.jolokia.", "Jolokia"},
            {"java.util.regex.", "JDK regex"},
            {"java.", "JDK (collections, I/O, text, …)"},
            {"javax.", "JDK (collections, I/O, text, …)"},
            {"jdk.", "JDK (collections, I/O, text, …)"},
            {"sun.", "JDK (collections, I/O, text, …)"},
        };
        for (String[] prefix : prefixes) {
            if (type.startsWith(prefix[0])) {
                return prefix[1];
            }
        }
        return "other (" + type.replaceAll("^((?:[^.]+\\.){2}).*", "$1") + "…)";
    }

    /** The top entries of a breakdown as table rows: name and share of the samples. */
    List<String> shares(Map<String, Long> breakdown, int top) {
        List<String> rows = new ArrayList<>();
        breakdown.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .forEach(e -> rows.add(String.format(Locale.ROOT, "| %s | %.1f %% |", e.getKey().replace("|", "\\|"),
                        100.0 * e.getValue() / samples)));
        return rows;
    }

    /** The top entries of a breakdown as table rows: name, share of the samples, and that share of {@code cpuSecondsPer1000}. */
    List<String> rows(Map<String, Long> breakdown, int top, double cpuSecondsPer1000) {
        List<String> rows = new ArrayList<>();
        breakdown.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .forEach(e -> rows.add(String.format(Locale.ROOT, "| %s | %.1f %% | %.2f s |", e.getKey().replace("|", "\\|"),
                        100.0 * e.getValue() / samples, cpuSecondsPer1000 * e.getValue() / samples)));
        return rows;
    }
}
