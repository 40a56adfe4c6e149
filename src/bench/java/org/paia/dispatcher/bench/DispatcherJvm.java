package org.paia.dispatcher.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.paia.dispatcher.local.LocalReplicaPod;

/**
 * The packaged dispatcher as its own JVM in the cluster profile, pointed at the bench's servers (as a
 * user deploys it), so that its start time, RSS and heap are its own. Heap is read over JMX.
 */
final class DispatcherJvm implements AutoCloseable {

    private final BenchCluster cluster;
    final String replicaId;
    final Path log;
    final Process process;
    final long startedNanos;
    private final int jmxPort;
    private JMXConnector jmx;
    private MemoryMXBean memory;
    private Thread sampler;
    private final AtomicLong peakHeap = new AtomicLong();
    private volatile boolean sampling;

    private DispatcherJvm(BenchCluster cluster, String replicaId, Path log, Process process, long startedNanos,
                          int jmxPort) {
        this.cluster = cluster;
        this.replicaId = replicaId;
        this.log = log;
        this.process = process;
        this.startedNanos = startedNanos;
        this.jmxPort = jmxPort;
    }

    static DispatcherJvm start(BenchCluster cluster, String replicaId, List<String> jvmOptions, List<String> settings)
            throws IOException {
        return start(cluster, replicaId, jvmOptions, settings, extractedJar());
    }

    /** As {@link #start(BenchCluster, String, List, List)}, with another build's jar (a before/after comparison). */
    static DispatcherJvm start(BenchCluster cluster, String replicaId, List<String> jvmOptions, List<String> settings,
                               Path jar) throws IOException {
        LocalReplicaPod.register(cluster.kubernetes, BenchCluster.NAMESPACE, replicaId);
        Path dir = cluster.dir.resolve("dispatchers");
        Files.createDirectories(dir.resolve("tmp"));
        Path log = dir.resolve(replicaId + ".log");
        int jmxPort = freePort();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-Djava.io.tmpdir=" + dir.resolve("tmp"),
                "-Dcom.sun.management.jmxremote.port=" + jmxPort,
                "-Dcom.sun.management.jmxremote.rmi.port=" + jmxPort,
                "-Dcom.sun.management.jmxremote.host=127.0.0.1",
                "-Djava.rmi.server.hostname=127.0.0.1",
                "-Dcom.sun.management.jmxremote.authenticate=false",
                "-Dcom.sun.management.jmxremote.ssl=false",
                "-jar", jar.toString(),
                "--spring.profiles.active=cluster",
                "--server.port=0",
                "--paia.kafka.bootstrap-servers=" + cluster.bootstrapServers(),
                "--paia.kafka.replica-id=" + replicaId,
                "--paia.kubernetes.master-url=" + cluster.kubernetesUrl(),
                "--paia.kubernetes.namespace=" + BenchCluster.NAMESPACE,
                "--paia.workspace=" + cluster.workspace()));
        command.addAll(settings);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        // The storage key goes through the environment, as a Secret would, never on the command line.
        builder.environment().put("PAIA_STORAGE_CONNECTION_STRING", cluster.storageConnectionString());
        long started = System.nanoTime();
        return new DispatcherJvm(cluster, replicaId, log, builder.start(), started, jmxPort);
    }

    /** Waits for a log line; returns the nanoTime it was seen (polled every 20 ms). */
    long awaitLog(String text, long timeoutSeconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(replicaId + " exited with " + process.exitValue() + "; see " + log);
            }
            if (logText().contains(text)) {
                return System.nanoTime();
            }
            Thread.sleep(20); // polling a log file: there is no event to wait on
        }
        throw new IllegalStateException(replicaId + " did not log '" + text + "' within " + timeoutSeconds + " s; see " + log);
    }

    String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    MemoryMXBean memory() throws IOException {
        if (memory == null) {
            jmx = JMXConnectorFactory.connect(new JMXServiceURL(
                    "service:jmx:rmi:///jndi/rmi://127.0.0.1:" + jmxPort + "/jmxrmi"));
            memory = ManagementFactory.newPlatformMXBeanProxy(jmx.getMBeanServerConnection(),
                    ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
        }
        return memory;
    }

    /** Heap used after a full GC (System.gc() over JMX), in bytes. */
    long heapAfterFullGc() throws IOException {
        memory().gc();
        return memory().getHeapMemoryUsage().getUsed();
    }

    /** The last processing time, in ms, of the route step with this id (Camel's JMX processor MBean). */
    long processorLastMillis(String processorId) throws Exception {
        memory();
        javax.management.ObjectName name = new javax.management.ObjectName(
                "org.apache.camel:context=paia-dispatcher,type=processors,name=\"" + processorId + "\"");
        return ((Number) jmx.getMBeanServerConnection().getAttribute(name, "LastProcessingTime")).longValue();
    }

    /** The JVM's process CPU time (user + system, every thread), in nanoseconds, over JMX. */
    long cpuNanos() throws Exception {
        memory();
        return ((Number) jmx.getMBeanServerConnection().getAttribute(
                new javax.management.ObjectName("java.lang:type=OperatingSystem"), "ProcessCpuTime")).longValue();
    }

    /** CPU time per native thread (ticks of 10 ms) from /proc, keyed by thread id; the names are the kernel's (15 chars). */
    java.util.Map<Long, ThreadCpu> threadCpu() throws IOException {
        return ThreadCpu.of(process.pid());
    }

    /** Starts a JFR recording with the JDK's "profile" settings over JMX; returns its id. */
    long startRecording() throws IOException {
        return startRecording("profile");
    }

    /**
     * Starts a JFR recording with the JDK's predefined settings {@code settings} over JMX ("default": about 1 %
     * overhead, Java samples every 20 ms; "profile": more events, every 10 ms); returns its id.
     */
    long startRecording(String settings) throws IOException {
        memory();
        jdk.management.jfr.FlightRecorderMXBean jfr = flightRecorder();
        long id = jfr.newRecording();
        jfr.setPredefinedConfiguration(id, settings);
        jfr.startRecording(id);
        return id;
    }

    /** Stops the recording and has the dispatcher JVM write it to {@code file}. */
    Path stopRecording(long id, Path file) throws IOException {
        jdk.management.jfr.FlightRecorderMXBean jfr = flightRecorder();
        jfr.stopRecording(id);
        jfr.copyTo(id, file.toString());
        jfr.closeRecording(id);
        return file;
    }

    private jdk.management.jfr.FlightRecorderMXBean flightRecorder() throws IOException {
        return ManagementFactory.newPlatformMXBeanProxy(jmx.getMBeanServerConnection(),
                "jdk.management.jfr:type=FlightRecorder", jdk.management.jfr.FlightRecorderMXBean.class);
    }

    /** kill -9: the JVM gets no chance to release its Lease or leave the consumer group. Returns the nanoTime of the kill. */
    long kill() throws InterruptedException {
        long at = System.nanoTime();
        process.destroyForcibly();
        process.waitFor();
        return at;
    }

    /** A route step's mean processing time in ms and its count of exchanges (Camel's JMX processor MBean), or null. */
    double[] processorMean(String processorId) throws Exception {
        memory();
        javax.management.ObjectName name = new javax.management.ObjectName(
                "org.apache.camel:context=paia-dispatcher,type=processors,name=\"" + processorId + "\"");
        try {
            javax.management.MBeanServerConnection server = jmx.getMBeanServerConnection();
            return new double[] {((Number) server.getAttribute(name, "MeanProcessingTime")).doubleValue(),
                    ((Number) server.getAttribute(name, "ExchangesTotal")).doubleValue()};
        } catch (javax.management.InstanceNotFoundException e) {
            return null;
        }
    }

    String maxHeap() throws IOException {
        return Bench.mib(memory().getHeapMemoryUsage().getMax());
    }

    /** Resident set size from /proc, in bytes. */
    long rss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS for " + process.pid());
    }

    /** Samples used heap every 100 ms until {@link #stopSampling()}, which returns the peak. */
    void startSampling() throws IOException {
        MemoryMXBean bean = memory();
        peakHeap.set(0);
        sampling = true;
        sampler = new Thread(() -> {
            while (sampling) {
                try {
                    peakHeap.accumulateAndGet(bean.getHeapMemoryUsage().getUsed(), Math::max);
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    return; // the JVM went away
                }
            }
        }, "heap-sampler-" + replicaId);
        sampler.setDaemon(true);
        sampler.start();
    }

    long stopSampling() throws InterruptedException {
        sampling = false;
        if (sampler != null) {
            sampler.join(2000);
        }
        return peakHeap.get();
    }

    static Path dispatcherJar() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(p -> p.getFileName().toString().matches("paia-dispatcher-.*\\.jar"))
                    .findFirst().orElseThrow(() -> new IllegalStateException(
                            "no dispatcher jar in target/: run the bench with ./mvnw -Pbench verify"))
                    .toAbsolutePath();
        }
    }

    /**
     * The packaged jar extracted (Spring Boot's {@code -Djarmode=tools extract}: the application jar and lib/ on
     * the JDK's own class loader), the class path layout the container image has (Jib puts classes and
     * libraries on a plain class path). Extracted once per build of the jar, under target/.
     */
    static Path extractedJar() throws IOException {
        return extracted(dispatcherJar());
    }

    /** {@code jar} extracted next to it (once per build of it); see {@link #extractedJar()}. */
    static synchronized Path extracted(Path jar) throws IOException {
        Path dir = jar.resolveSibling("extracted-" + jar.getFileName() + "-" + Files.getLastModifiedTime(jar).toMillis());
        Path extracted = dir.resolve(jar.getFileName());
        if (!Files.isRegularFile(extracted)) {
            Path log = jar.resolveSibling("extract.log");
            Process extract = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Djarmode=tools", "-jar", jar.toString(), "extract", "--destination", dir.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                if (extract.waitFor() != 0 || !Files.isRegularFile(extracted)) {
                    throw new IOException("extracting " + jar + " failed; see " + log);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted extracting " + jar, e);
            }
        }
        return extracted;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    @Override
    public void close() throws Exception {
        sampling = false;
        if (jmx != null) {
            try {
                jmx.close();
            } catch (IOException ignored) {
                // the JVM is going anyway
            }
        }
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        // Its Deployment pod goes away with it, so that the next replica can take the scheduler lease.
        cluster.kubernetes.pods().inNamespace(BenchCluster.NAMESPACE).withName(replicaId).delete();
    }
}
