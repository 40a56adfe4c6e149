package org.paia.dispatcher.bench;

import com.azure.storage.blob.BlobClient;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.paia.dispatcher.task.Program;

/**
 * Issue 7's bench: six cases against one set of embedded servers, the dispatcher as a child JVM.
 * Run with {@code ./mvnw -B -Pbench verify}; sizes via {@code -Dbench.args="key=value ..."} (see
 * {@link #option}). Writes {@code BENCHMARKS.md} (keeping anything below its analysis marker) and
 * prints the same.
 */
public final class Bench {

    static final String ANALYSIS_MARKER = "<!-- analysis: kept by the bench across runs -->";

    private final java.util.Map<String, String> options = new java.util.HashMap<>();
    private final StringBuilder report = new StringBuilder();
    private final List<String> headlines = new ArrayList<>();
    private BenchCluster cluster;
    private PodTimeline timeline;
    private ResultWatch results;
    private final List<Long> readyMs = new ArrayList<>();
    private final List<Long> idleRss = new ArrayList<>();
    private final List<Long> heapAfterGc = new ArrayList<>();
    private String dispatcherMaxHeap = "?";
    private int dispatcherRuns;
    private double case1CpuPer1000 = Double.NaN;
    private Profile coldProfile;
    private Path coldJfr;
    /** The route steps between a freed slot and the next pod, by id (watch.yaml, schedule.yaml, launch.yaml). */
    private static final List<String> GAP_STEPS = List.of("judge-pod", "claim-due-runs", "launch-records", "record-launches",
            "programs", "write-input", "render-pod", "create-pod", "mark-created");
    private final Map<String, double[]> gapSteps = new java.util.LinkedHashMap<>();
    private CpuUse case4Cpu;
    private CpuUse burstProfile;
    private final List<Double> idleCpuPerSecond = new ArrayList<>();

    /** The dispatcher JVM's CPU over case 4: process CPU, by kind of thread (/proc), and its JFR profile. */
    private record CpuUse(int runs, long cpuNanos, double wallSeconds, Map<String, Long> byKind, Profile profile, Path jfr) {
        double secondsPer1000() {
            return cpuNanos / 1e9 / runs * 1000;
        }
    }

    public static void main(String[] args) throws Exception {
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("org.paia.dispatcher.local"))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        Bench bench = new Bench();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("bench arguments are key=value, got: " + arg);
            }
            bench.options.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        try {
            bench.run();
        } finally {
            System.exit(0); // the embedded broker's and informers' threads must not keep the JVM
        }
    }

    String option(String key, String fallback) {
        return options.getOrDefault(key, System.getProperty("bench." + key, fallback));
    }

    int intOption(String key, int fallback) {
        return Integer.parseInt(option(key, Integer.toString(fallback)));
    }

    private List<String> dispatcherJvmOptions() {
        // ";" separates options too, since -Dbench.args is split on spaces
        return List.of(option("dispatcherJvm", "-Xmx512m").trim().split("[\\s;]+"));
    }

    private void run() throws Exception {
        String cases = "," + option("cases", "1,2,3,4,5,6,7,8,9,10") + ",";
        int reps = intOption("reps", 3);
        Instant began = Instant.now();
        String machine = String.format(Locale.ROOT,
                "%d cores (%s), %s GiB RAM; JDK %s (%s); bench JVM max heap %s; dispatcher JVM options: %s; %s UTC",
                Runtime.getRuntime().availableProcessors(), cpuModel(), totalRamGiB(),
                System.getProperty("java.version"), System.getProperty("java.vm.name"),
                mib(Runtime.getRuntime().maxMemory()), String.join(" ", dispatcherJvmOptions()),
                began.toString().substring(0, 19).replace('T', ' '));
        line("# Benchmarks");
        line("");
        line("Produced by `./mvnw -B -Pbench verify" + (options.isEmpty() ? "" : " -Dbench.args=\""
                + String.join(" ", options.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).sorted().toList())
                + "\"") + "` (issue 7; sources in `src/bench/java`). Do not edit by hand above the analysis marker.");
        line("");
        line("**Machine:** " + machine);
        line("");
        line("The machine is shared (other builds and agents run on the same 2 cores while this runs): absolute "
                + "numbers are noisy, the ratios against the baselines measured in the same run are the headline. "
                + "Servers: embedded KRaft Kafka, Azurite, fabric8 Kubernetes API server (CRUD mode) and the "
                + "simulated GPU node (Pending time 0), all hosted by the bench JVM; the dispatcher is the packaged "
                + "jar, extracted as the container image lays it out, in its own JVM (profile `cluster`, otherwise "
                + "default settings), as deployed. Medians of "
                + reps + " repetitions where one takes under a minute.");
        line("");
        Path dir = Path.of("target", "bench", "run-" + System.currentTimeMillis()).toAbsolutePath();
        cluster = new BenchCluster(dir);
        try {
            cluster.createTopics(List.of(Baseline.TASKS, Baseline.RESULTS));
            timeline = new PodTimeline(cluster.kubernetes, BenchCluster.NAMESPACE);
            results = new ResultWatch(cluster.bootstrapServers(), "paia.game.results");
            if (cases.contains(",1,") || cases.contains(",2,")) {
                guarded("1 and 2", () -> utilisationAndGap(reps));
            }
            if (cases.contains(",3,") || cases.contains(",4,")) {
                guarded("3 and 4", () -> overheadAndScale(reps, cases));
            }
            if (cases.contains(",5,")) {
                guarded("5", () -> transfer(reps));
            }
            if (cases.contains(",6,")) {
                guarded("6", () -> footprint(reps));
            }
            if (cases.contains(",7,")) {
                guarded("7", this::ledgerHistory);
            }
            if (cases.contains(",8,")) {
                guarded("8", () -> burstIntake(reps));
            }
            if (cases.contains(",9,")) {
                guarded("9", this::cpuPerRun);
            }
            if (cases.contains(",10,")) {
                guarded("10", () -> takeover(reps));
            }
        } finally {
            timeline.close();
            results.close();
            cluster.close();
        }
        line("");
        line("Whole bench run: " + Duration.between(began, Instant.now()).toSeconds() + " s.");
        String out = option("out", "BENCHMARKS.md");
        Path file = Path.of(out);
        String old = Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        Files.writeString(file, merged(report.toString(), old), StandardCharsets.UTF_8);
        System.out.println("\n===== headlines =====");
        headlines.forEach(System.out::println);
        System.out.println("Written to " + file.toAbsolutePath());
    }

    /**
     * This run's report, with the analysis kept from {@code old} and, for each case this run did not include
     * ({@code cases=…}), that case's section from {@code old}, marked as kept from its run. So a run of some
     * cases updates them and leaves the others' last measurements in place.
     */
    static String merged(String report, String old) {
        int at = old.indexOf(ANALYSIS_MARKER);
        String kept = at >= 0 ? old.substring(at) : ANALYSIS_MARKER + "\n\n## Analysis\n\n(none yet)\n";
        String oldReport = at >= 0 ? old.substring(0, at) : old;
        Map<Integer, String> ours = sections(report);
        Map<Integer, String> theirs = sections(oldReport);
        java.util.regex.Matcher when = java.util.regex.Pattern.compile("(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d):\\d\\d UTC")
                .matcher(oldReport);
        String oldRun = when.find() ? "its run of " + when.group(1) + " UTC" : "an earlier run";
        java.util.TreeMap<Integer, String> all = new java.util.TreeMap<>(ours);
        theirs.forEach((n, text) -> all.computeIfAbsent(n, k -> text.contains("*Not in this bench run")
                ? text : text.replaceFirst("\n", "\n\n*Not in this bench run: kept from " + oldRun + ".*\n")));
        int first = report.indexOf("\n## ");
        String head = first < 0 ? report : report.substring(0, first + 1);
        int footer = report.lastIndexOf("\nWhole bench run: ");
        StringBuilder out = new StringBuilder(head);
        all.values().forEach(out::append);
        if (footer >= 0) {
            out.append(report.substring(footer + 1));
        }
        return out.append('\n').append(kept).toString();
    }

    /** A report's "## N. title" sections by number, each up to the next section or the footer. */
    static Map<Integer, String> sections(String report) {
        Map<Integer, String> sections = new java.util.HashMap<>();
        java.util.regex.Matcher heading = java.util.regex.Pattern.compile("(?m)^## (\\d+)\\. ").matcher(report);
        List<int[]> starts = new ArrayList<>();
        while (heading.find()) {
            starts.add(new int[] {heading.start(), Integer.parseInt(heading.group(1))});
        }
        int footer = report.lastIndexOf("\nWhole bench run: ");
        for (int i = 0; i < starts.size(); i++) {
            int end = i + 1 < starts.size() ? starts.get(i + 1)[0] : (footer > starts.get(i)[0] ? footer + 1 : report.length());
            sections.put(starts.get(i)[1], report.substring(starts.get(i)[0], end));
        }
        return sections;
    }

    private interface Case {
        void run() throws Exception;
    }

    private void guarded(String name, Case c) {
        try {
            c.run();
        } catch (Exception | Error e) {
            e.printStackTrace();
            line("");
            line("**Cases " + name + " did not finish:** `" + e + "`");
            line("");
        }
    }

    // ---- cases 1 and 2 ----------------------------------------------------------------------

    /** One run of case 1's tasks under the dispatcher. */
    private record UtilRun(double makespan, double firstPod, double tail, List<Double> gaps, int maxLive, long cpuNanos) {
    }

    private UtilRun utilisationRun(DispatcherJvm jvm, List<Integer> durations, double ideal, String label) throws Exception {
        timeline.reset();
        List<String> rooms = new ArrayList<>();
        long cpu0 = jvm.cpuNanos();
        long t0 = System.nanoTime();
        for (int d : durations) {
            String room = UUID.randomUUID().toString();
            rooms.add(room);
            cluster.publish("paia.game.tasks", room, cluster.task(room, "\"sim_duration_ms\": " + d, ""));
        }
        cluster.producer.flush();
        long end = results.awaitAll(rooms, Duration.ofMinutes(10));
        long cpu = jvm.cpuNanos() - cpu0;
        double makespan = (end - t0) / 1e9;
        long failed = rooms.stream().filter(r -> !"SUCCEEDED".equals(results.get(r).json().path("outcome").asText())).count();
        UtilRun run = new UtilRun(makespan, (timeline.first(PodTimeline.Kind.CREATED) - t0) / 1e9,
                (end - timeline.last(PodTimeline.Kind.TERMINAL)) / 1e9, timeline.gapsMs(), timeline.maxLive(), cpu);
        System.out.printf(Locale.ROOT, "case 1 dispatcher (%s): makespan %.1f s, utilisation %.1f %%, first pod %.2f s, "
                + "max live pods %d, %d not SUCCEEDED, CPU %.1f s%n", label, makespan, 100 * ideal / makespan, run.firstPod(),
                run.maxLive(), failed, cpu / 1e9);
        awaitNoLivePods();
        return run;
    }

    private void utilisationAndGap(int reps) throws Exception {
        int tasks = intOption("tasks1", 100);
        int capacity = intOption("capacity1", 5);
        long seed = Long.parseLong(option("seed", "42"));
        Random random = new Random(seed);
        List<Integer> durations = new ArrayList<>();
        for (int i = 0; i < tasks; i++) {
            durations.add(500 + random.nextInt(2501)); // uniform 0.5–3 s
        }
        double sum = durations.stream().mapToInt(Integer::intValue).sum() / 1000.0;
        double ideal = sum / capacity;
        double packed = fifoMakespan(durations, capacity);
        UtilRun cold;
        List<UtilRun> warm = new ArrayList<>();
        try (DispatcherJvm jvm = startDispatcher(List.of("--paia.scheduler.max-active-pods=" + capacity))) {
            // The first run after the dispatcher took the scheduler: no task has gone through it yet (a restart).
            // JFR's low-overhead settings: with "profile" the cold run's first pod took 5.6 s instead of 2.0 s.
            long recording = jvm.startRecording("default");
            Thread.sleep(3000); // the recording's own start-up is not the cold run's
            long coldStart = System.currentTimeMillis();
            cold = utilisationRun(jvm, durations, ideal, "cold");
            Path jfr = jvm.stopRecording(recording, cluster.dir.resolve("dispatchers").resolve(jvm.replicaId + "-cold.jfr"));
            coldProfile = Profile.read(jfr, coldStart, coldStart + Math.round(cold.firstPod() * 1000));
            coldJfr = jfr;
            for (int i = 0; i < reps; i++) {
                warm.add(utilisationRun(jvm, durations, ideal, "warm " + (i + 1)));
            }
            for (String step : GAP_STEPS) {
                double[] mean = jvm.processorMean(step);
                if (mean != null) {
                    gapSteps.put(step, mean);
                }
            }
        }
        List<Double> makespans = warm.stream().map(UtilRun::makespan).toList();
        List<Double> dispatcherUtil = makespans.stream().map(m -> ideal / m).toList();
        List<Double> gaps = new ArrayList<>(warm.stream().flatMap(r -> r.gaps().stream()).toList());
        List<Double> starts = warm.stream().map(UtilRun::firstPod).toList();
        List<Double> tails = warm.stream().map(UtilRun::tail).toList();
        int maxLive = Math.max(cold.maxLive(), warm.stream().mapToInt(UtilRun::maxLive).max().orElse(0));
        case1CpuPer1000 = warm.stream().mapToLong(UtilRun::cpuNanos).sum() / 1e9 / (tasks * warm.size()) * 1000;
        List<Double> baselineUtil = new ArrayList<>();
        List<Double> baselineMakespans = new ArrayList<>();
        ResultWatch baselineResults = new ResultWatch(cluster.bootstrapServers(), Baseline.RESULTS);
        try (Baseline baseline = new Baseline(cluster, capacity)) {
            repeat(reps, () -> {
                List<String> rooms = new ArrayList<>();
                long t0 = System.nanoTime();
                for (int d : durations) {
                    String room = UUID.randomUUID().toString();
                    rooms.add(room);
                    cluster.publish(Baseline.TASKS, room, cluster.task(room, "\"sim_duration_ms\": " + d, ""));
                }
                cluster.producer.flush();
                long end;
                try {
                    end = baselineResults.awaitAll(rooms, Duration.ofMinutes(10));
                } catch (IllegalStateException e) {
                    throw new IllegalStateException("baseline: " + e.getMessage(), baseline.failure());
                }
                double makespan = (end - t0) / 1e9;
                baselineMakespans.add(makespan);
                baselineUtil.add(ideal / makespan);
                System.out.printf(Locale.ROOT, "case 1 baseline: makespan %.1f s, utilisation %.1f %%%n", makespan, 100 * ideal / makespan);
                return makespan;
            });
        } finally {
            baselineResults.close();
        }
        double util = median(dispatcherUtil);
        double baseUtil = median(baselineUtil);
        double warmMakespan = median(makespans);
        double coldUtil = ideal / cold.makespan();
        line("## 1. GPU slot utilisation");
        line("");
        line(String.format(Locale.ROOT, "%d single-instance tasks, capacity %d (`paia.scheduler.max-active-pods`), game "
                + "durations uniform 0.5–3 s from seed %d (`game_param.sim_duration_ms` per task): Σ durations %.1f s, "
                + "ideal makespan Σ/capacity = %.1f s. Makespan = first publish → last result read (read_committed). "
                + "The packing bound: the same durations run first-come-first-served on %d slots with no overhead at "
                + "all take %.1f s (%.1f %% of ideal), since the last games end unevenly; a dispatcher that does not "
                + "know durations in advance cannot beat it. One dispatcher: its first run right after it took the "
                + "scheduler (cold: no task had gone through it, as after a restart or a deploy) is its own row and "
                + "not counted; then %d warm runs.", tasks, capacity, seed, sum, ideal, capacity, packed,
                100 * ideal / packed, warm.size()));
        line("");
        line("| | makespan | of ideal | of packing bound | first publish → first pod | runs |");
        line("|---|---|---|---|---|---|");
        line(String.format(Locale.ROOT, "| dispatcher, warm (median) | %.1f s | **%.1f %%** | **%.1f %%** | %.2f s | %s |",
                warmMakespan, 100 * util, 100 * packed / warmMakespan, median(starts), fmt(makespans, "s")));
        line(String.format(Locale.ROOT, "| dispatcher, cold (first run after start) | %.1f s | %.1f %% | %.1f %% | %.2f s | 1 |",
                cold.makespan(), 100 * coldUtil, 100 * packed / cold.makespan(), cold.firstPod()));
        line(String.format(Locale.ROOT, "| baseline (seed 000 loop, batch of %d) | %.1f s | %.1f %% | %.1f %% | | %s |", capacity,
                median(baselineMakespans), 100 * baseUtil, 100 * packed / median(baselineMakespans), fmt(baselineMakespans, "s")));
        line("");
        line(String.format(Locale.ROOT, "Dispatcher / baseline utilisation: **%.2f×**. Most game pods alive at once "
                + "under the dispatcher (bench's own watch): %d (capacity %d)%s. Last game pod ended → last result read "
                + "(warm, median): %.2f s.", util / baseUtil, maxLive, capacity, maxLive > capacity ? " — **the capacity "
                + "was not enforced**" : "", median(tails)));
        line("");
        double ofBound = packed / warmMakespan;
        if (coldProfile != null && coldProfile.samples > 0) {
            line(String.format(Locale.ROOT, "Where the cold run's first publish → first pod (%.2f s) goes: the JFR execution "
                    + "samples of that window (%d, `%s`, JFR's `default` settings, so as not to slow the run it watches), "
                    + "by thread pool and by the library of the innermost frame (samples, not CPU seconds: a thread is "
                    + "sampled every 20 ms while it runs Java code):",
                    cold.firstPod(), coldProfile.samples, cluster.dir.relativize(coldJfr)));
            line("");
            line("| thread pool | share of samples |");
            line("|---|---|");
            coldProfile.shares(coldProfile.byThread, 8).forEach(this::line);
            line("");
            line("| library | share of samples |");
            line("|---|---|");
            coldProfile.shares(coldProfile.byLibrary, 8).forEach(this::line);
            line("");
        }
        line(String.format(Locale.ROOT, "Goals: warm utilisation ≥ 98 %% of the packing bound → %s (%.1f %%; %.1f %% of "
                + "ideal); cold first publish → first pod ≤ 0.5 s → %s (%.2f s); cold utilisation within 10 points of "
                + "warm → %s (%.1f points).", ofBound >= 0.98 ? "met" : "**missed**", 100 * ofBound, 100 * util,
                cold.firstPod() <= 0.5 ? "met" : "**missed**", cold.firstPod(),
                100 * (util - coldUtil) <= 10 ? "met" : "**missed**", 100 * (util - coldUtil)));
        line("");
        headlines.add(String.format(Locale.ROOT, "utilisation %.1f %% vs baseline %.1f %% (%.2f×)", 100 * util, 100 * baseUtil, util / baseUtil));

        Collections.sort(gaps);
        line("## 2. Dispatch gap");
        line("");
        line("From case 1's warm dispatcher runs: for each freed slot, the time from the game pod's terminal event "
                + "(phase Succeeded/Failed) to the next pod's creation, both as **received by the bench's own fabric8 "
                + "watch** (receive times in the bench JVM, `System.nanoTime()`; the same watch for both ends, so its "
                + "delivery latency mostly cancels). Terminal events are matched first-in-first-out to the next "
                + "creation; the initial fill and the tail are not gaps.");
        line("");
        if (gaps.isEmpty()) {
            line("No gaps measured (no pod was created after another ended: capacity not binding).");
        } else {
            double p50 = percentile(gaps, 50);
            double p99 = percentile(gaps, 99);
            double max = gaps.get(gaps.size() - 1);
            line("| gaps | p50 | p99 | max |");
            line("|---|---|---|---|");
            line(String.format(Locale.ROOT, "| %d | %.0f ms | %.0f ms | %.0f ms |", gaps.size(), p50, p99, max));
            line("");
            line(String.format(Locale.ROOT, "Goal: p50 < 50 ms → %s; p99 < 250 ms → %s.", p50 < 50 ? "met" : "**missed**",
                    p99 < 250 ? "met" : "**missed**"));
            if (!gapSteps.isEmpty()) {
                line("");
                line("The route steps on the way from a freed slot to the next pod, as the dispatcher's own JMX processor "
                        + "MBeans time them (mean per exchange over all of case 1's runs, cold one included; `record-launches` "
                        + "is the Kafka transaction that records a pass's launches before any pod is created):");
                line("");
                line("| step | mean | exchanges |");
                line("|---|---|---|");
                gapSteps.forEach((step, mean) -> line(String.format(Locale.ROOT, "| `%s` | %.1f ms | %.0f |", step, mean[0], mean[1])));
            }
            List<Double> coldGaps = new ArrayList<>(cold.gaps());
            Collections.sort(coldGaps);
            if (!coldGaps.isEmpty()) {
                line("");
                line(String.format(Locale.ROOT, "The cold run on its own (%d gaps, not in the table): p50 %.0f ms, p99 %.0f ms, "
                        + "max %.0f ms.", coldGaps.size(), percentile(coldGaps, 50), percentile(coldGaps, 99),
                        coldGaps.get(coldGaps.size() - 1)));
            }
            headlines.add(String.format(Locale.ROOT, "dispatch gap p50 %.0f ms, p99 %.0f ms, max %.0f ms", p50, p99, max));
        }
        line("");
    }

    // ---- cases 3 and 4 ----------------------------------------------------------------------

    private void overheadAndScale(int reps, String cases) throws Exception {
        int tasks = intOption("tasks3", 2000);
        int instances = intOption("instances4", 10_000);
        int parallelism = intOption("parallelism4", 200);
        int capacity = intOption("capacity4", 200);
        try (DispatcherJvm jvm = startDispatcher(List.of("--paia.scheduler.max-active-pods=" + capacity))) {
            if (cases.contains(",3,")) {
                List<Double> rates = new ArrayList<>();
                repeat(reps, () -> {
                    timeline.reset();
                    List<String> rooms = new ArrayList<>();
                    long t0 = System.nanoTime();
                    for (int i = 0; i < tasks; i++) {
                        String room = UUID.randomUUID().toString();
                        rooms.add(room);
                        cluster.publish("paia.game.tasks", room, cluster.task(room, "\"sim_duration_ms\": 0", ""));
                    }
                    cluster.producer.flush();
                    long end = results.awaitAll(rooms, Duration.ofMinutes(30));
                    double rate = tasks / ((end - t0) / 1e9);
                    rates.add(rate);
                    System.out.printf(Locale.ROOT, "case 3 dispatcher: %.1f results/s%n", rate);
                    awaitNoLivePods();
                    return rate;
                });
                List<Double> raw = new ArrayList<>();
                int[] rep = {0};
                repeat(reps, () -> {
                    double rate = RawLoop.run(cluster, tasks, rep[0]++);
                    raw.add(rate);
                    System.out.printf(Locale.ROOT, "case 3 raw loop: %.1f results/s%n", rate);
                    return rate;
                });
                List<Double> rawBatched = new ArrayList<>();
                repeat(reps, () -> {
                    double rate = RawLoop.run(cluster, tasks, "bench.raw.batched." + rep[0]++, true);
                    rawBatched.add(rate);
                    System.out.printf(Locale.ROOT, "case 3 raw loop, one transaction per poll: %.1f results/s%n", rate);
                    return rate;
                });
                double ratio = median(rates) / median(raw);
                double ofBatched = median(rates) / median(rawBatched);
                line("## 3. Overhead");
                line("");
                line(String.format(Locale.ROOT, "%d tasks with instant games (`sim_duration_ms` 0), capacity %d, all "
                        + "published at once; rate = tasks / (first publish → last result). The raw loop is a plain "
                        + "Java read_committed consumer and transactional producer doing one transaction (record + "
                        + "offset) per task on the same broker; its batched variant does one transaction per poll "
                        + "(max.poll.records 500, as the intake), as Kafka Streams' exactly-once does.", tasks, capacity));
                line("");
                line("| | results/s (median) | runs |");
                line("|---|---|---|");
                line(String.format(Locale.ROOT, "| dispatcher (whole pipeline) | %.1f | %s |", median(rates), fmt(rates, "")));
                line(String.format(Locale.ROOT, "| raw transactional loop, one transaction per task | %.1f | %s |",
                        median(raw), fmt(raw, "")));
                line(String.format(Locale.ROOT, "| raw transactional loop, one transaction per poll | %.1f | %s |",
                        median(rawBatched), fmt(rawBatched, "")));
                line("");
                line(String.format(Locale.ROOT, "Dispatcher / raw per task: **%.1f %%**. Goal ≥ 50 %% → %s. Dispatcher / "
                        + "raw per poll: %.1f %% (the whole pipeline runs every task's game; the raw loop only answers)",
                        100 * ratio, ratio >= 0.5 ? "met" : "**missed**", 100 * ofBatched));
                line("");
                headlines.add(String.format(Locale.ROOT, "overhead: %.1f results/s = %.1f %% of the raw loop's %.1f/s",
                        median(rates), 100 * ratio, median(raw)));
            }
            if (cases.contains(",4,")) {
                scale(jvm, instances, parallelism, capacity);
            }
        }
    }

    private void scale(DispatcherJvm jvm, int instances, int parallelism, int capacity) throws Exception {
        // A batch of 1,000 instances first, not measured, as the raw loop of case 9 warms up before it counts: the
        // CPU per run is the steady state's, not the JIT's first minutes.
        String warmUp = UUID.randomUUID().toString();
        cluster.publish("paia.game.tasks", warmUp, cluster.task(warmUp, "\"sim_duration_ms\": 0",
                "\"instances\": 1000, \"parallelism\": " + parallelism));
        cluster.producer.flush();
        results.awaitAll(List.of(warmUp), Duration.ofMinutes(10));
        awaitNoLivePods();
        timeline.reset();
        String room = UUID.randomUUID().toString();
        jvm.heapAfterFullGc();
        jvm.startSampling();
        Map<Long, ThreadCpu> threads0 = jvm.threadCpu();
        long cpu0 = jvm.cpuNanos();
        long recording = jvm.startRecording();
        long t0 = System.nanoTime();
        cluster.publish("paia.game.tasks", room, cluster.task(room,
                "\"sim_duration_min_ms\": 100, \"sim_duration_max_ms\": 1000",
                "\"instances\": " + instances + ", \"parallelism\": " + parallelism));
        cluster.producer.flush();
        long end;
        try {
            end = results.awaitAll(List.of(room), Duration.ofMinutes(intOption("timeout4Minutes", 30)));
        } finally {
            jvm.stopSampling();
        }
        long peak = jvm.stopSampling();
        long cpu = jvm.cpuNanos() - cpu0;
        Map<String, Long> kinds = ThreadCpu.byKind(threads0, jvm.threadCpu());
        Path jfr = jvm.stopRecording(recording, cluster.dir.resolve("dispatchers").resolve(jvm.replicaId + "-case4.jfr"));
        case4Cpu = new CpuUse(instances, cpu, (end - t0) / 1e9, kinds, Profile.read(jfr), jfr);
        double wall = (end - t0) / 1e9;
        JsonNode result = results.get(room).json();
        JsonNode counts = result.path("instances");
        long events = timeline.totalEvents();
        long created = timeline.created();
        boolean exact = counts.path("total").asLong() == instances
                && counts.path("succeeded").asLong() + counts.path("failed").asLong() == instances;
        line("## 4. Scale");
        line("");
        line(String.format(Locale.ROOT, "One task, `instances` %d, `parallelism` %d, capacity %d, durations uniform "
                + "0.1–1 s (`sim_duration_min_ms`/`sim_duration_max_ms`); ideal ≈ %d × 0.55 s / %d = %.1f s. Measured "
                + "after a batch of 1,000 instant instances on the same dispatcher (warm, not counted). Peak heap: "
                + "the dispatcher JVM's used heap sampled over JMX every 100 ms (max heap %s). Pod events: every "
                + "add/update/delete the bench's own watch received on game pods (the stream the dispatcher's watch "
                + "handles), divided by the wall time.", instances, parallelism, Math.min(capacity, parallelism),
                instances, Math.min(capacity, parallelism), instances * 0.55 / Math.min(capacity, parallelism), jvm.maxHeap()));
        line("");
        line("| wall time | result counts | pods created | max pods alive | peak heap | pod events/s |");
        line("|---|---|---|---|---|---|");
        line(String.format(Locale.ROOT, "| %.1f s | %s | %d | %d | %s | %.0f |", wall,
                counts.isMissingNode() ? "(no `instances` in result)" : counts.toString(), created, timeline.maxLive(),
                mib(peak), events / wall));
        line("");
        if (created < instances) {
            line("**This build did not run the instances** (" + created + " pod(s) for " + instances + " instances): "
                    + "batch runs are issue 5. Rerun after it lands. Its result: outcome `"
                    + result.path("outcome").asText() + "`, error `" + result.path("error").asText() + "`.");
        } else {
            line(String.format(Locale.ROOT, "Exact count: %s. Goal: peak heap < 512 MiB → %s.", exact ? "yes" : "**NO**",
                    peak < 512L * 1024 * 1024 ? "met" : "**missed**"));
        }
        line("");
        headlines.add(String.format(Locale.ROOT, "scale: %d instances in %.1f s, exact=%s, peak heap %s, %.0f pod events/s",
                instances, wall, exact, mib(peak), events / wall));
    }

    // ---- case 5 -----------------------------------------------------------------------------

    private void transfer(int reps) throws Exception {
        long mib = intOption("transferMiB", 1024);
        long size = mib * 1024 * 1024;
        Path dir = cluster.dir.resolve("transfer");
        Files.createDirectories(dir);
        Path source = dir.resolve("model.bin");
        byte[] chunk = new byte[8 * 1024 * 1024];
        new Random(7).nextBytes(chunk);
        try (OutputStream out = Files.newOutputStream(source)) {
            for (long written = 0; written < size; written += chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, size - written));
            }
        }
        String blobPath = "kart_3d/big/model.bin";
        BlobClient blob = cluster.blobs.getBlobContainerClient(BenchCluster.PROGRAM_CONTAINER).getBlobClient(blobPath);
        long up = System.nanoTime();
        blob.uploadFromFile(source.toString(), true);
        System.out.printf(Locale.ROOT, "case 5: uploaded %d MiB in %.1f s%n", mib, (System.nanoTime() - up) / 1e9);
        Files.delete(source);
        String programUrl = cluster.accountUrl() + "/" + BenchCluster.PROGRAM_CONTAINER + "/" + blobPath;
        List<Double> ours = new ArrayList<>();
        List<Double> sdk = new ArrayList<>();
        List<Long> oursPeak = new ArrayList<>();
        List<Long> sdkPeak = new ArrayList<>();
        List<Long> oursLive = new ArrayList<>();
        List<Long> sdkLive = new ArrayList<>();
        try (DispatcherJvm jvm = startDispatcher(List.of())) {
            for (int rep = 0; rep < reps; rep++) {
                Path sdkFile = dir.resolve("sdk-" + rep + ".bin");
                long[] m = measureTransfer(() -> blob.downloadToFile(sdkFile.toString(), true));
                check(sdkFile, size);
                sdk.add(mib / (m[0] / 1e9));
                sdkPeak.add(m[1]);
                sdkLive.add(m[2]);
                Files.delete(sdkFile);
                // The dispatcher: a task whose program is the blob; its program-fetch route downloads it with
                // the component (the download-blob step's own time, from its JMX processor MBean).
                String room = "transfer-" + rep + "-" + UUID.randomUUID().toString().substring(0, 8);
                long base = jvm.heapAfterFullGc();
                jvm.startSampling();
                cluster.publish("paia.game.tasks", room, cluster.task(room, "", "").replace(
                        cluster.accountUrl() + "/" + BenchCluster.PROGRAM_CONTAINER + "/" + BenchCluster.PROGRAM_BLOB,
                        programUrl).replace("bench_player", "big_model"));
                results.awaitAll(List.of(room), Duration.ofMinutes(10));
                long peak = jvm.stopSampling();
                long live = jvm.heapAfterFullGc();
                long millis = jvm.processorLastMillis("download-blob");
                check(cluster.workspace().resolve(room).resolve("programs").resolve("big_model").resolve("model.bin"), size);
                ours.add(mib / (millis / 1e3));
                oursPeak.add(Math.max(0, peak - base));
                oursLive.add(Math.max(0, live - base));
                deleteTree(cluster.workspace().resolve(room));
                System.out.printf(Locale.ROOT, "case 5: SDK %.0f MB/s, dispatcher %.0f MB/s%n", sdk.get(rep), ours.get(rep));
            }
        }
        double ratio = median(ours) / median(sdk);
        long growth = medianLong(oursLive);
        line("## 5. Transfer");
        line("");
        line(String.format(Locale.ROOT, "A %d MiB program blob on Azurite, downloaded (a) by the dispatcher: a task "
                + "whose program is that blob, fetched by its `program-fetch` route (`azure-storage-blob` "
                + "`downloadBlobToFile` into a staging folder; the time is that step's own, from its JMX processor "
                + "MBean), in the dispatcher JVM (%s); and (b) by the Azure SDK's `BlobClient.downloadToFile` in the "
                + "bench JVM (max heap %s), alternating. MiB/s = size / time. Heap growth of the dispatcher: used heap "
                + "sampled every 100 ms over JMX minus the heap after a full GC just before (\"peak\", includes garbage "
                + "not yet collected), and the heap after a full GC once the task is done minus that baseline "
                + "(\"live\"). The SDK's: sampled every 5 ms in the bench JVM, likewise.", mib,
                String.join(" ", dispatcherJvmOptions()), mib(Runtime.getRuntime().maxMemory())));
        line("");
        line("| | MiB/s (median) | runs | peak heap growth | live heap growth |");
        line("|---|---|---|---|---|");
        line(String.format(Locale.ROOT, "| dispatcher (program-fetch route) | %.0f | %s | %s | %s |", median(ours), fmt(ours, ""),
                mib(medianLong(oursPeak)), mib(growth)));
        line(String.format(Locale.ROOT, "| Azure SDK downloadToFile | %.0f | %s | %s | %s |", median(sdk), fmt(sdk, ""),
                mib(medianLong(sdkPeak)), mib(medianLong(sdkLive))));
        line("");
        line(String.format(Locale.ROOT, "Dispatcher / SDK speed: **%.1f %%**. Goals: ≥ 80 %% → %s; heap growth < 64 MiB "
                + "(peak, the stricter) → %s.", 100 * ratio, ratio >= 0.8 ? "met" : "**missed**", medianLong(oursPeak) < 64L * 1024 * 1024 ? "met" : "**missed**"));
        line("");
        headlines.add(String.format(Locale.ROOT, "transfer: %.0f MiB/s = %.1f %% of the SDK's %.0f MiB/s, live heap growth %s",
                median(ours), 100 * ratio, median(sdk), mib(growth)));
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void check(Path file, long size) throws Exception {
        if (Files.size(file) != size) {
            throw new IllegalStateException(file + " has " + Files.size(file) + " bytes, expected " + size);
        }
    }

    /** Runs a download; returns {nanos, peak used-heap growth, largest after-GC heap growth}. */
    private static long[] measureTransfer(Case download) throws Exception {
        System.gc();
        long base = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP && p.getCollectionUsage() != null).toList();
        long gcBefore = afterGc(pools);
        AtomicLong peak = new AtomicLong(base);
        AtomicLong live = new AtomicLong(gcBefore);
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
                live.accumulateAndGet(afterGc(pools), Math::max);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.setDaemon(true);
        sampler.start();
        long t0 = System.nanoTime();
        download.run();
        long nanos = System.nanoTime() - t0;
        sampler.interrupt();
        sampler.join();
        return new long[] {nanos, peak.get() - base, Math.max(0, live.get() - gcBefore)};
    }

    private static long afterGc(List<MemoryPoolMXBean> pools) {
        return pools.stream().mapToLong(p -> p.getCollectionUsage().getUsed()).sum();
    }

    // ---- case 6 -----------------------------------------------------------------------------

    private void footprint(int reps) throws Exception {
        while (readyMs.size() < reps) {
            try (DispatcherJvm jvm = startDispatcher(List.of())) {
                // nothing: startDispatcher measures
            }
        }
        // The same build run with `java -jar` on the packaged (nested) jar, and extracted with a class data sharing
        // archive made from a training start.
        List<Long> packagedReady = readyRuns(reps, DispatcherJvm.dispatcherJar(), List.of());
        Path extractedJar = DispatcherJvm.extractedJar();
        // JDK 17's dynamic archive (-XX:ArchiveClassesAtExit) crashed this JDK at exit (SIGSEGV in
        // SystemDictionaryShared::adjust_lambda_proxy_class_dictionary), so a static one: the classes a training
        // start loads (-XX:DumpLoadedClassList), then -Xshare:dump on the same class path.
        Path archive = cluster.dir.resolve("paia-dispatcher.jsa");
        Path classList = cluster.dir.resolve("paia-dispatcher.classlist");
        List<String> training = new ArrayList<>(dispatcherJvmOptions());
        training.add("-XX:DumpLoadedClassList=" + classList);
        try (DispatcherJvm jvm = DispatcherJvm.start(cluster, "bench-" + (++dispatcherRuns), training, List.of(), extractedJar)) {
            jvm.awaitLog("Started DispatcherApplication", 300);
        }
        // This JDK's dump crashes on lambda proxy entries of classes it then excludes (signed jars: the Azure SDK's),
        // in SystemDictionaryShared::adjust_lambda_proxy_class_dictionary: the archive holds the classes only.
        Files.write(classList, Files.readAllLines(classList).stream().filter(l -> !l.startsWith("@")).toList());
        Process dump = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xshare:dump",
                "-XX:SharedClassListFile=" + classList, "-XX:SharedArchiveFile=" + archive, "-jar", extractedJar.toString())
                .redirectErrorStream(true).redirectOutput(cluster.dir.resolve("cds-dump.log").toFile()).start();
        boolean dumped = dump.waitFor() == 0 && Files.isRegularFile(archive);
        List<Long> cdsReady = dumped ? readyRuns(reps, extractedJar, List.of("-XX:SharedArchiveFile=" + archive)) : List.of();
        line("## 6. Footprint");
        line("");
        line("Each dispatcher JVM the bench started (" + readyMs.size() + "; the packaged jar extracted, as the container "
                + "image's class path; JVM options `" + String.join(" ", dispatcherJvmOptions()) + "`, max heap "
                + dispatcherMaxHeap + "): start to ready = process start → `Started DispatcherApplication` in its log "
                + "(profile `cluster`); idle RSS = VmRSS from /proc after 10 s idle once it leads the scheduler; heap "
                + "after a full GC = used heap after `System.gc()` over JMX; idle CPU = the JVM's CPU seconds per second "
                + "over those 10 s.");
        line("");
        line("| start to ready (median) | idle RSS (median) | heap after full GC (median) | idle CPU (median) | runs (ready s) |");
        line("|---|---|---|---|---|");
        line(String.format(Locale.ROOT, "| %.1f s | %s | %s | %.3f CPU s/s | %s |", medianLong(readyMs) / 1000.0,
                mib(medianLong(idleRss)), mib(medianLong(heapAfterGc)), median(idleCpuPerSecond), seconds(readyMs)));
        line("");
        line("Start to ready by how the jar is run (the same settings):");
        line("");
        line("| layout | start to ready (median) | runs (s) |");
        line("|---|---|---|");
        line(String.format(Locale.ROOT, "| `java -jar` on the packaged (nested) jar | %.1f s | %s |", medianLong(packagedReady) / 1000.0,
                seconds(packagedReady)));
        line(String.format(Locale.ROOT, "| extracted (`java -Djarmode=tools -jar … extract`), as the container image's class "
                + "path: every dispatcher above | **%.1f s** | %s |", medianLong(readyMs) / 1000.0, seconds(readyMs)));
        if (cdsReady.isEmpty()) {
            line("| extracted + class data sharing | (the archive could not be made: see `cds-dump.log`) | |");
        } else {
            line(String.format(Locale.ROOT, "| extracted + class data sharing (`-XX:SharedArchiveFile`, a static archive of "
                    + "the classes a training start loaded, %s) | %.1f s | %s |", mib(Files.size(archive)),
                    medianLong(cdsReady) / 1000.0, seconds(cdsReady)));
        }
        line("");
        long ready = medianLong(readyMs);
        line(String.format(Locale.ROOT, "Goal: start to ready ≤ 15 s → %s (%.1f s, extracted).", ready <= 15_000 ? "met" : "**missed**",
                ready / 1000.0));
        line("");
        headlines.add(String.format(Locale.ROOT, "footprint: ready in %.1f s extracted, %.1f s with java -jar, %s with CDS; "
                + "idle RSS %s, heap after GC %s", medianLong(readyMs) / 1000.0, medianLong(packagedReady) / 1000.0,
                cdsReady.isEmpty() ? "-" : String.format(Locale.ROOT, "%.1f s", medianLong(cdsReady) / 1000.0),
                mib(medianLong(idleRss)), mib(medianLong(heapAfterGc))));
    }

    /** Start to ready of {@code reps} dispatchers run from {@code jar} with extra JVM options, in ms. */
    private List<Long> readyRuns(int reps, Path jar, List<String> extraJvmOptions) throws Exception {
        List<Long> ready = new ArrayList<>();
        List<String> options = new ArrayList<>(dispatcherJvmOptions());
        options.addAll(extraJvmOptions);
        for (int i = 0; i < reps; i++) {
            try (DispatcherJvm jvm = DispatcherJvm.start(cluster, "bench-" + (++dispatcherRuns), options, List.of(), jar)) {
                ready.add((jvm.awaitLog("Started DispatcherApplication", 300) - jvm.startedNanos) / 1_000_000);
                System.out.printf(Locale.ROOT, "case 6 %s %s: ready in %d ms%n", jar.getFileName(), extraJvmOptions,
                        ready.get(ready.size() - 1));
            }
        }
        return ready;
    }

    private static String seconds(List<Long> millis) {
        return String.join(", ", millis.stream().map(ms -> String.format(Locale.ROOT, "%.1f", ms / 1000.0)).toList());
    }

    // ---- case 7 -----------------------------------------------------------------------------

    /**
     * Issue 11: rebuild time and heap with a ledger of at least 1,000,000 records of completed work, as the
     * version before the ledger lifecycle left it (nothing tombstoned): the packaged dispatcher's first start
     * on it (the upgrade), then its sweep and the broker's compaction, then a second start.
     */
    private void ledgerHistory() throws Exception {
        String topic = "bench-ledger-history";
        Map<String, String> config = new java.util.HashMap<>(org.paia.dispatcher.config.TopicSetup.LEDGER_DEFAULTS);
        // Compaction within the bench's minutes (the defaults close a segment after an hour).
        Map<String, String> fast = Map.of("segment.bytes", String.valueOf(1024 * 1024), "min.cleanable.dirty.ratio", "0.01",
                "delete.retention.ms", "0");
        config.putAll(fast);
        com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper()
                .findAndRegisterModules()
                .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
        long seeding = System.nanoTime();
        org.paia.dispatcher.support.LedgerHistory.Seeded seeded = org.paia.dispatcher.support.LedgerHistory.seed(
                cluster.bootstrapServers(), topic, 3, config, mapper, cluster.accountUrl(), Instant.now(),
                Duration.ofDays(7), org.paia.dispatcher.support.LedgerHistory.Shape.million());
        System.out.printf(Locale.ROOT, "case 7: %d records seeded in %.1f s%n", seeded.records(),
                (System.nanoTime() - seeding) / 1e9);
        List<String> settings = new ArrayList<>(List.of("--paia.kafka.ledger-topic=" + topic, "--paia.ledger.sweep-interval=2s"));
        fast.forEach((key, value) -> settings.add("--paia.ledger.topic-config." + key + "=" + value));
        String[] upgraded;
        long sweepStarted;
        try (DispatcherJvm jvm = DispatcherJvm.start(cluster, "bench-history-1", dispatcherJvmOptions(), settings)) {
            upgraded = rebuilt(jvm);
            sweepStarted = System.nanoTime();
            long deadline = System.nanoTime() + Duration.ofMinutes(20).toNanos();
            long remaining;
            while ((remaining = org.paia.dispatcher.support.LedgerHistory.count(cluster.bootstrapServers(), topic)) >= 60_000
                    && System.nanoTime() < deadline) {
                Thread.sleep(5000); // waiting for the sweep and the broker's cleaner: polled, no event to wait on
            }
            System.out.printf(Locale.ROOT, "case 7: %d records left after the sweep and compaction%n", remaining);
        }
        double sweepSeconds = (System.nanoTime() - sweepStarted) / 1e9;
        String[] compacted;
        try (DispatcherJvm jvm = DispatcherJvm.start(cluster, "bench-history-2", dispatcherJvmOptions(), settings)) {
            compacted = rebuilt(jvm);
        }
        line("## 7. Ledger history");
        line("");
        line(String.format(Locale.ROOT, "A ledger of %,d records: %,d of completed work as the version before issue 11 "
                + "left it (200,000 single games and 10 batches of 10,000 instances over 100 days, nothing "
                + "tombstoned), plus 21 open tasks. The packaged dispatcher (`%s`) starts on it; its `ledger-sweep` "
                + "tombstones what the 7-day duplicate window no longer needs, the broker compacts (topic settings "
                + "for the bench's minutes: %s), and a second dispatcher starts. Rebuild = the dispatcher's own log "
                + "line `Ledger … read: N records in T ms`; heap = used heap after a full GC over JMX once it schedules.",
                seeded.records(), seeded.completedRecords(), String.join(" ", dispatcherJvmOptions()), fast));
        line("");
        line("| start | records read | rebuild | heap after full GC | book |");
        line("|---|---|---|---|---|");
        line("| first, on the old history | " + upgraded[0] + " | " + upgraded[1] + " ms | " + upgraded[2] + " | " + upgraded[3] + " |");
        line("| after the sweep and compaction | " + compacted[0] + " | " + compacted[1] + " ms | " + compacted[2] + " | "
                + compacted[3] + " |");
        line("");
        line(String.format(Locale.ROOT, "Sweep and compaction took %.0f s (the sweep writes at most 50,000 tombstones a round).",
                sweepSeconds));
        line("");
        headlines.add("ledger history: " + seeded.records() + " records; rebuild " + upgraded[0] + " records in " + upgraded[1]
                + " ms (heap " + upgraded[2] + ") before the sweep, " + compacted[0] + " in " + compacted[1] + " ms (heap "
                + compacted[2] + ") after");
    }

    /** Records read, milliseconds, heap after GC and the book's sizes of a dispatcher's ledger rebuild. */
    private static String[] rebuilt(DispatcherJvm jvm) throws Exception {
        jvm.awaitLog("is now the scheduler", 900);
        java.util.regex.Matcher read = java.util.regex.Pattern
                .compile("Ledger \\S+ read: (\\d+) records in (\\d+) ms; ([^\\n]*)").matcher(jvm.logText());
        if (!read.find()) {
            throw new IllegalStateException("no rebuild line in the log of " + jvm.replicaId);
        }
        String heap = mib(jvm.heapAfterFullGc());
        System.out.printf(Locale.ROOT, "case 7: %s read %s records in %s ms, heap %s%n", jvm.replicaId, read.group(1),
                read.group(2), heap);
        return new String[] {String.format(Locale.ROOT, "%,d", Long.parseLong(read.group(1))), read.group(2), heap,
                read.group(3).trim()};
    }

    // ---- case 8 -----------------------------------------------------------------------------

    /**
     * Issue 13: a burst of tasks published at once (a class pressing "play"); time from the first publish
     * until every one is {@code TASK_ACCEPTED} on the ledger, read {@code read_committed}. Each run gets a
     * fresh dispatcher on topics of its own, so that the games it then runs touch no other case. With
     * {@code beforeJar=<jar>} the same runs are made with an older build (one transaction per task) in the
     * same sitting. Against the raw loop's batched variant (one transaction per poll) on the same broker.
     */
    private void burstIntake(int reps) throws Exception {
        int tasks = intOption("tasks8", 5000);
        List<Double> rates = burstRuns(reps, tasks, DispatcherJvm.extractedJar(), "now");
        String beforeJar = option("beforeJar", "");
        List<Double> before = beforeJar.isEmpty() ? List.of()
                : burstRuns(reps, tasks, DispatcherJvm.extracted(Path.of(beforeJar).toAbsolutePath()), "before");
        List<Double> rawBatched = new ArrayList<>();
        List<Double> rawPerTask = new ArrayList<>();
        int[] rep = {0};
        repeat(reps, () -> {
            rep[0]++;
            double batched = RawLoop.run(cluster, tasks, "bench.burst.raw.batched." + rep[0], true);
            rawBatched.add(batched);
            System.out.printf(Locale.ROOT, "case 8 raw loop, one transaction per poll: %.1f tasks/s%n", batched);
            return batched;
        });
        rep[0] = 0;
        repeat(1, () -> {
            double perTask = RawLoop.run(cluster, Math.min(tasks, 2000), "bench.burst.raw.per-task." + (++rep[0]), false);
            rawPerTask.add(perTask);
            System.out.printf(Locale.ROOT, "case 8 raw loop, one transaction per task: %.1f tasks/s%n", perTask);
            return perTask;
        });
        line("## 8. Burst intake");
        line("");
        line(String.format(Locale.ROOT, "%d valid tasks published at once; rate = tasks / (first publish → the last "
                + "`TASK_ACCEPTED` on the ledger, read_committed). A fresh dispatcher per run (topics of its own), "
                + "default settings, that has taken a burst of 1,000 first (not measured: warm, as a running service "
                + "meets a class pressing play); its games (instant) start meanwhile. The raw loops: a plain Java read_committed "
                + "consumer (max.poll.records 500, as the intake) and transactional producer on the same broker, "
                + "writing one record per task with the offsets in the transaction.", tasks));
        line("");
        line("| | tasks/s (median) | runs |");
        line("|---|---|---|");
        line(String.format(Locale.ROOT, "| dispatcher, one transaction per polled batch | %.1f | %s |", median(rates),
                fmt(rates, "")));
        if (!before.isEmpty()) {
            line(String.format(Locale.ROOT, "| dispatcher before (`%s`), one transaction per task | %.1f | %s |",
                    Path.of(beforeJar).getFileName(), median(before), fmt(before, "")));
        }
        line(String.format(Locale.ROOT, "| raw loop, one transaction per poll | %.1f | %s |", median(rawBatched),
                fmt(rawBatched, "")));
        line(String.format(Locale.ROOT, "| raw loop, one transaction per task (%d tasks) | %.1f | %s |",
                Math.min(tasks, 2000), median(rawPerTask), fmt(rawPerTask, "")));
        line("");
        double ofRaw = median(rates) / median(rawBatched);
        line(String.format(Locale.ROOT, "Dispatcher / batched raw loop: **%.1f %%** (goal ≥ 50 %% → %s).", 100 * ofRaw,
                ofRaw >= 0.5 ? "met" : "**missed**"));
        if (burstProfile != null) {
            Profile profile = burstProfile.profile();
            double cpuPer1000 = burstProfile.secondsPer1000();
            line("");
            line(String.format(Locale.ROOT, "Where the dispatcher's time goes in its first burst (%.1f s): its JVM used %.1f CPU s "
                    + "(%.2f CPU s per 1000 tasks, %.0f %% of the 2 cores over the burst, the games it started meanwhile "
                    + "included). JFR execution samples (%,d, `%s`) by thread pool and by the library of the innermost frame "
                    + "(CPU s per 1000 tasks = share × the JVM's CPU, JIT and GC threads spread over them):",
                    burstProfile.wallSeconds(), burstProfile.cpuNanos() / 1e9, cpuPer1000,
                    100 * burstProfile.cpuNanos() / 1e9 / burstProfile.wallSeconds() / Runtime.getRuntime().availableProcessors(),
                    profile.samples, cluster.dir.relativize(burstProfile.jfr())));
            line("");
            line("| thread pool | share of samples | CPU s per 1000 tasks |");
            line("|---|---|---|");
            profile.rows(profile.byThread, 10, cpuPer1000).forEach(this::line);
            line("");
            line("| library | share of samples | CPU s per 1000 tasks |");
            line("|---|---|---|");
            profile.rows(profile.byLibrary, 10, cpuPer1000).forEach(this::line);
        }
        if (!before.isEmpty()) {
            double speedup = median(rates) / median(before);
            line(String.format(Locale.ROOT, " Dispatcher / before: **%.1f×** (goal ≥ 10× → %s).", speedup,
                    speedup >= 10 ? "met" : "**missed**"));
        }
        line("");
        headlines.add(String.format(Locale.ROOT, "burst intake: %.1f tasks/s = %.1f %% of the batched raw loop's %.1f/s",
                median(rates), 100 * ofRaw, median(rawBatched)));
    }

    private List<Double> burstRuns(int reps, int tasks, Path jar, String label) throws Exception {
        List<Double> rates = new ArrayList<>();
        int[] rep = {0};
        repeat(reps, () -> {
            String prefix = "bench.burst." + label + "." + (++rep[0]);
            List<String> topics = List.of("--paia.kafka.task-topic=" + prefix + ".tasks",
                    "--paia.kafka.ledger-topic=" + prefix + ".ledger", "--paia.kafka.result-topic=" + prefix + ".results",
                    "--paia.kafka.dead-letter-topic=" + prefix + ".dlq", "--paia.kafka.group-id=" + prefix);
            String replica = "bench-" + (++dispatcherRuns);
            try (DispatcherJvm jvm = DispatcherJvm.start(cluster, replica, dispatcherJvmOptions(), topics, jar)) {
                jvm.awaitLog("Started DispatcherApplication", 300);
                // A burst of 1,000 first, not measured: a class pressing "play" meets a dispatcher that has been
                // running, not one whose JIT has compiled nothing yet.
                try (ResultWatch warm = new ResultWatch(cluster.bootstrapServers(), prefix + ".ledger")) {
                    List<String> rooms = new ArrayList<>();
                    for (int i = 0; i < 1000; i++) {
                        String room = UUID.randomUUID().toString();
                        rooms.add(room);
                        cluster.publish(prefix + ".tasks", room, cluster.task(room, "\"sim_duration_ms\": 0", ""));
                    }
                    cluster.producer.flush();
                    warm.awaitAll(rooms, Duration.ofMinutes(10));
                }
                boolean profiled = "now".equals(label) && burstProfile == null;
                long recording = profiled ? jvm.startRecording() : -1;
                long cpu0 = jvm.cpuNanos();
                try (ResultWatch accepted = new ResultWatch(cluster.bootstrapServers(), prefix + ".ledger")) {
                    List<String> rooms = new ArrayList<>();
                    long t0 = System.nanoTime();
                    for (int i = 0; i < tasks; i++) {
                        String room = UUID.randomUUID().toString();
                        rooms.add(room);
                        cluster.publish(prefix + ".tasks", room, cluster.task(room, "\"sim_duration_ms\": 0", ""));
                    }
                    cluster.producer.flush();
                    long end = accepted.awaitAll(rooms, Duration.ofMinutes(30));
                    double rate = tasks / ((end - t0) / 1e9);
                    rates.add(rate);
                    if (profiled) {
                        long cpu = jvm.cpuNanos() - cpu0;
                        Path jfr = jvm.stopRecording(recording, cluster.dir.resolve("dispatchers").resolve(replica + "-case8.jfr"));
                        burstProfile = new CpuUse(tasks, cpu, (end - t0) / 1e9, Map.of(), Profile.read(jfr), jfr);
                    }
                    System.out.printf(Locale.ROOT, "case 8 dispatcher (%s): %d tasks accepted at %.1f tasks/s%n", label,
                            tasks, rate);
                    return rate;
                }
            }
        });
        return rates;
    }

    // ---- case 9 -----------------------------------------------------------------------------

    /**
     * Issue 13: what the dispatcher itself costs per game run, in CPU, against a plain Java loop making the
     * same external calls per run in a JVM of its own ({@link RawRunLoop}). The dispatcher's figures come from
     * case 4 (process CPU over JMX, per thread from /proc, a JFR profile) and case 1 (whole tasks).
     */
    private void cpuPerRun() throws Exception {
        line("## 9. CPU per game run");
        line("");
        if (case4Cpu == null) {
            line("Case 4 did not run in this bench run: nothing to compare (run with `cases=3,4,9` or all cases).");
            line("");
            return;
        }
        cluster.createTopics(List.of("bench.rawrun.ledger"));
        int runs = intOption("runs9", 2000);
        int warmup = intOption("warmup9", 500);
        int inFlight = intOption("capacity4", 200);
        List<RawRunLoop.Result> raw = new ArrayList<>();
        int[] rep = {0};
        repeat(intOption("reps9", 3), () -> {
            RawRunLoop.Result r = RawRunLoop.inChildJvm(cluster, warmup, runs, inFlight,
                    cluster.dir.resolve("raw-run-loop-" + (++rep[0]) + ".log"));
            raw.add(r);
            System.out.printf(Locale.ROOT, "case 9 raw loop: %d runs, %.2f CPU s per 1000 runs, %.1f s%n", r.runs(),
                    r.cpuSecondsPer1000(), r.wallNanos() / 1e9);
            return r;
        });
        double rawPer1000 = median(raw.stream().map(RawRunLoop.Result::cpuSecondsPer1000).toList());
        double ours = case4Cpu.secondsPer1000();
        double idle = idleCpuPerSecond.isEmpty() ? Double.NaN : median(idleCpuPerSecond);
        double oursLessIdle = ours - idle * case4Cpu.wallSeconds() / case4Cpu.runs() * 1000;
        line(String.format(Locale.ROOT, "CPU seconds (user + system, every thread of the JVM) per 1000 game runs. "
                + "Dispatcher: its JVM's process CPU over JMX across case 4 (%,d instances of one task, capacity %d, "
                + "%.0f s) and across case 1's warm runs (whole single-game tasks: intake, result, …). Raw loop "
                + "(`RawRunLoop`, a JVM of its own, -Xmx512m): per run it writes the game input, creates the pod, "
                + "takes its terminal event from one shared informer, uploads the game's three artifacts, writes "
                + "the outcome in a Kafka transaction of its own and deletes the pod; %d runs in flight, 8 launch "
                + "and 4 finish threads (the dispatcher's defaults), instant games on the same simulated node, "
                + "measured over %,d runs after %,d warm-up runs; median of %d. Idle: the dispatcher's CPU per "
                + "second while it leads with nothing to do (lease renewals, ticks, relists), measured when each "
                + "dispatcher started.", case4Cpu.runs(), inFlight, case4Cpu.wallSeconds(), inFlight, runs, warmup,
                raw.size()));
        line("");
        line("| | CPU s per 1000 runs | runs |");
        line("|---|---|---|");
        line(String.format(Locale.ROOT, "| dispatcher, case 4 (batch instances) | **%.2f** | %.1f s CPU for %,d runs in %.0f s |",
                ours, case4Cpu.cpuNanos() / 1e9, case4Cpu.runs(), case4Cpu.wallSeconds()));
        line(String.format(Locale.ROOT, "| dispatcher, case 4, less its idle CPU (%.3f CPU s/s) | %.2f | |", idle, oursLessIdle));
        if (!Double.isNaN(case1CpuPer1000)) {
            line(String.format(Locale.ROOT, "| dispatcher, case 1 warm runs (one task per game) | %.2f | |", case1CpuPer1000));
        }
        line(String.format(Locale.ROOT, "| raw loop | **%.2f** | %s |", rawPer1000,
                fmt(raw.stream().map(RawRunLoop.Result::cpuSecondsPer1000).toList(), "")));
        line("");
        double ratio = ours / rawPer1000;
        line(String.format(Locale.ROOT, "Dispatcher / raw loop (case 4): **%.2f×** (goal ≤ 1.5× → %s).", ratio,
                ratio <= 1.5 ? "met" : "**missed**"));
        line("");
        long total = case4Cpu.byKind().values().stream().mapToLong(Long::longValue).sum();
        line("Where the dispatcher's case 4 CPU goes. By kind of thread (the kernel's per-thread counters, "
                + "`/proc/PID/task/*/stat`; JIT and GC threads never show in a Java profile):");
        line("");
        line("| threads | share | CPU s per 1000 runs |");
        line("|---|---|---|");
        case4Cpu.byKind().forEach((kind, nanos) -> line(String.format(Locale.ROOT, "| %s | %.1f %% | %.2f s |", kind,
                100.0 * nanos / Math.max(1, total), nanos / 1e9 / case4Cpu.runs() * 1000)));
        line("");
        Profile profile = case4Cpu.profile();
        double javaPer1000 = case4Cpu.byKind().getOrDefault("Java threads", 0L) / 1e9 / case4Cpu.runs() * 1000;
        line(String.format(Locale.ROOT, "The Java threads' share by thread pool, which is the stage (JFR execution samples "
                + "of the run, %,d samples, `%s`; Camel names a consumer's threads after its endpoint, the routes' own "
                + "pools after their step; CPU s = share × the Java threads' CPU):", profile.samples,
                cluster.dir.relativize(case4Cpu.jfr())));
        line("");
        line("| thread pool | share of samples | CPU s per 1000 runs |");
        line("|---|---|---|");
        profile.rows(profile.byThread, 14, javaPer1000).forEach(this::line);
        line("");
        line("By the library of the innermost frame (what runs, whichever stage called it):");
        line("");
        line("| library | share of samples | CPU s per 1000 runs |");
        line("|---|---|---|");
        profile.rows(profile.byLibrary, 12, javaPer1000).forEach(this::line);
        line("");
        headlines.add(String.format(Locale.ROOT, "CPU per 1000 game runs: dispatcher %.2f s, raw loop %.2f s (%.2f×)", ours,
                rawPer1000, ratio));
    }

    // ---- case 10 ----------------------------------------------------------------------------

    /**
     * Issue 13: leader {@code kill -9} → the new leader's first game pod, with the default Lease settings and
     * with short ones. Two dispatchers on topics of their own; games queue behind the capacity; the leader is
     * killed while its games run; the first pod created after the kill is the standby's (the killed one
     * creates none).
     */
    private void takeover(int reps) throws Exception {
        record Setting(String name, Duration lease, List<String> args) {
        }
        List<Setting> settings = List.of(
                new Setting("default (lease 15 s, renew deadline 10 s, retry period 2 s)", Duration.ofSeconds(15), List.of()),
                new Setting("short (lease 5 s, renew deadline 3 s, retry period 1 s)", Duration.ofSeconds(5), List.of(
                        "--paia.kubernetes.leader-election.lease-duration=5s",
                        "--paia.kubernetes.leader-election.renew-deadline=3s",
                        "--paia.kubernetes.leader-election.retry-period=1s")));
        Map<String, List<Double>> takeovers = new java.util.LinkedHashMap<>();
        for (Setting setting : settings) {
            List<Double> seconds = new ArrayList<>();
            int[] rep = {0};
            repeat(reps, () -> {
                double s = takeoverRun(setting.args(), "bench.takeover." + (setting.lease().toSeconds()) + "." + (++rep[0]));
                seconds.add(s);
                System.out.printf(Locale.ROOT, "case 10 takeover (%s): kill → first pod %.2f s%n", setting.name(), s);
                return s;
            });
            takeovers.put(setting.name(), seconds);
        }
        line("## 10. Takeover");
        line("");
        line("Two dispatchers (the extracted jar, profile `cluster`) on topics of their own, capacity 5; 40 tasks of 1 s games "
                + "queued behind it. Once the leader has created 10 pods it is killed with `kill -9` (SIGKILL: its Lease "
                + "is not released, its consumer does not leave the group) and its pod is marked not Ready at once, as "
                + "kubelet does when the container dies (Camel's leader election counts Ready pods only). Time = the "
                + "kill → the first game pod created after it, as the bench's own watch receives it; only the standby "
                + "can create it. Goal: ≤ lease duration + 1 s.");
        line("");
        line("| Lease settings | kill → new leader's first pod (median) | runs | goal |");
        line("|---|---|---|---|");
        for (int i = 0; i < settings.size(); i++) {
            Setting setting = settings.get(i);
            List<Double> seconds = takeovers.get(setting.name());
            double m = median(seconds);
            double goal = setting.lease().toSeconds() + 1;
            line(String.format(Locale.ROOT, "| %s | **%.2f s** | %s | ≤ %.0f s → %s |", setting.name(), m, fmt(seconds, "s"),
                    goal, m <= goal ? "met" : "**missed**"));
            headlines.add(String.format(Locale.ROOT, "takeover, %s: %.2f s", setting.name(), m));
        }
        line("");
    }

    private double takeoverRun(List<String> lease, String prefix) throws Exception {
        List<String> args = new ArrayList<>(lease);
        args.addAll(List.of("--paia.kafka.task-topic=" + prefix + ".tasks", "--paia.kafka.ledger-topic=" + prefix + ".ledger",
                "--paia.kafka.result-topic=" + prefix + ".results", "--paia.kafka.dead-letter-topic=" + prefix + ".dlq",
                "--paia.kafka.group-id=" + prefix, "--paia.scheduler.max-active-pods=5"));
        DispatcherJvm leader = DispatcherJvm.start(cluster, "bench-" + (++dispatcherRuns), dispatcherJvmOptions(), args);
        DispatcherJvm standby = null;
        try {
            leader.awaitLog("is now the scheduler", 300);
            standby = DispatcherJvm.start(cluster, "bench-" + (++dispatcherRuns), dispatcherJvmOptions(), args);
            standby.awaitLog("Started DispatcherApplication", 300);
            timeline.reset();
            for (int i = 0; i < 40; i++) {
                String room = UUID.randomUUID().toString();
                cluster.publish(prefix + ".tasks", room, cluster.task(room, "\"sim_duration_ms\": 1000", ""));
            }
            cluster.producer.flush();
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (timeline.created() < 10 && System.nanoTime() < deadline) {
                Thread.sleep(5); // waiting on the bench's own watch
            }
            if (timeline.created() < 10) {
                throw new IllegalStateException("the leader created " + timeline.created() + " pods in 2 minutes");
            }
            long killed = leader.kill();
            // What kubelet does when the container dies (within about a second; not in the figure): not Ready.
            org.paia.dispatcher.local.LocalReplicaPod.setReady(cluster.kubernetes, BenchCluster.NAMESPACE, leader.replicaId, false);
            // Every pod there now is the killed leader's (and the watch may deliver its creation after the kill); the
            // standby's are the others received after the kill.
            java.util.Set<String> leaders = new java.util.HashSet<>();
            cluster.kubernetes.pods().inNamespace(BenchCluster.NAMESPACE)
                    .withLabel(org.paia.dispatcher.pods.PodNames.MANAGED_BY_LABEL).list().getItems()
                    .forEach(p -> leaders.add(p.getMetadata().getName()));
            long first = timeline.firstCreatedOtherThan(leaders, killed, Duration.ofMinutes(2));
            standby.awaitLog("is now the scheduler", 10);
            return (first - killed) / 1e9;
        } finally {
            leader.close();
            if (standby != null) {
                standby.close();
            }
            awaitNoLivePods();
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    /** Starts a dispatcher JVM, waits until it is ready and leads the scheduler, and takes its footprint. */
    private DispatcherJvm startDispatcher(List<String> settings) throws Exception {
        String replica = "bench-" + (++dispatcherRuns);
        DispatcherJvm jvm = DispatcherJvm.start(cluster, replica, dispatcherJvmOptions(), settings);
        try {
            long ready = jvm.awaitLog("Started DispatcherApplication", 300);
            jvm.awaitLog("is now the scheduler", 120);
            readyMs.add((ready - jvm.startedNanos) / 1_000_000);
            long idleCpu0 = jvm.cpuNanos();
            long idle0 = System.nanoTime();
            Thread.sleep(10_000); // idle time before the idle RSS: a measurement window, not synchronisation
            idleCpuPerSecond.add((jvm.cpuNanos() - idleCpu0) / 1e9 / ((System.nanoTime() - idle0) / 1e9));
            idleRss.add(jvm.rss());
            heapAfterGc.add(jvm.heapAfterFullGc());
            dispatcherMaxHeap = jvm.maxHeap();
            System.out.printf(Locale.ROOT, "dispatcher %s: ready in %d ms, idle RSS %s, heap after GC %s%n", replica,
                    readyMs.get(readyMs.size() - 1), mib(idleRss.get(idleRss.size() - 1)),
                    mib(heapAfterGc.get(heapAfterGc.size() - 1)));
            return jvm;
        } catch (Exception e) {
            jvm.close();
            throw e;
        }
    }

    private void awaitNoLivePods() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!cluster.kubernetes.pods().inNamespace(BenchCluster.NAMESPACE)
                .withLabel(org.paia.dispatcher.pods.PodNames.MANAGED_BY_LABEL).list().getItems().isEmpty()
                && System.nanoTime() < deadline) {
            Thread.sleep(200); // pods are deleted after their outcome is recorded; polled between repetitions
        }
    }

    /** Runs once; runs again up to {@code reps} times in all while one run takes under a minute. */
    private static <T> List<T> repeat(int reps, Callable<T> run) throws Exception {
        List<T> out = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            out.add(run.call());
            if (System.nanoTime() - t0 > Duration.ofMinutes(1).toNanos()) {
                break;
            }
        }
        return out;
    }

    private void line(String s) {
        report.append(s).append('\n');
        System.out.println(s);
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.0f MiB", bytes / 1024.0 / 1024.0);
    }

    private static String fmt(List<Double> values, String unit) {
        return String.join(", ", values.stream().map(v -> String.format(Locale.ROOT, "%.1f%s", v,
                unit.isEmpty() ? "" : " " + unit)).toList());
    }

    /** The makespan of {@code durations} (ms) run in order on {@code slots} slots, each taking the next as it frees. */
    static double fifoMakespan(List<Integer> durations, int slots) {
        java.util.PriorityQueue<Double> free = new java.util.PriorityQueue<>();
        for (int i = 0; i < slots; i++) {
            free.add(0.0);
        }
        double makespan = 0;
        for (int d : durations) {
            double end = free.poll() + d / 1000.0;
            makespan = Math.max(makespan, end);
            free.add(end);
        }
        return makespan;
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static long medianLong(List<Long> values) {
        return Math.round(median(values.stream().map(Long::doubleValue).toList()));
    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(List<Double> sorted, double p) {
        int rank = (int) Math.ceil(p / 100 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown CPU");
        } catch (Exception e) {
            return "unknown CPU";
        }
    }

    private static String totalRamGiB() {
        long bytes = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
        return String.format(Locale.ROOT, "%.0f", bytes / 1024.0 / 1024 / 1024);
    }
}
