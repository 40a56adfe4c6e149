package org.paia.dispatcher.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One native thread's CPU time as the kernel counts it ({@code /proc/PID/task/TID/stat}: utime + stime,
 * in clock ticks of 10 ms), with its kernel name (the first 15 characters of a Java thread's name; the
 * JIT's {@code C2 CompilerThre} and the collector's {@code GC Thread#0} show up too, which a Java profile
 * never samples).
 */
record ThreadCpu(String name, long ticks) {

    static final long NANOS_PER_TICK = 10_000_000L;

    static Map<Long, ThreadCpu> of(long pid) throws IOException {
        Map<Long, ThreadCpu> threads = new HashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (NoSuchFileException gone) {
                    continue; // the thread ended between the listing and the read
                }
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                String[] fields = stat.substring(close + 2).split(" ");
                // after the name: state(0) ppid(1) ... utime is field 14 of the line, so index 11 here; stime 12
                long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                threads.put(Long.parseLong(task.getFileName().toString()), new ThreadCpu(stat.substring(open + 1, close), ticks));
            }
        }
        return threads;
    }

    /** CPU nanoseconds spent between two snapshots, by kind of thread (JIT compiler, garbage collector, JVM, Java code). */
    static Map<String, Long> byKind(Map<Long, ThreadCpu> before, Map<Long, ThreadCpu> after) {
        Map<String, Long> kinds = new LinkedHashMap<>();
        for (String kind : new String[] {"Java threads", "JIT compiler", "garbage collector", "JVM (VM thread, other)"}) {
            kinds.put(kind, 0L);
        }
        after.forEach((tid, now) -> {
            ThreadCpu then = before.get(tid);
            long spent = (now.ticks - (then == null ? 0 : then.ticks)) * NANOS_PER_TICK;
            kinds.merge(kind(now.name), spent, Long::sum);
        });
        return kinds;
    }

    static String kind(String name) {
        if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
            return "JIT compiler";
        }
        if (name.startsWith("GC Thread") || name.startsWith("G1 ") || name.startsWith("VM Periodic")
                || name.equals("VM Thread") || name.startsWith("Service Thread") || name.startsWith("Monitor Deflati")
                || name.startsWith("Common-Cleaner") || name.startsWith("Sweeper")) {
            return name.startsWith("GC ") || name.startsWith("G1 ") ? "garbage collector" : "JVM (VM thread, other)";
        }
        return "Java threads";
    }
}
