package org.paia.dispatcher.bench;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.paia.dispatcher.pods.PodNames;

/**
 * The bench's own watch (a fabric8 informer) on game pods: every event with the time this JVM
 * received it ({@code System.nanoTime()}), the pods alive at once, and the dispatch gaps.
 */
final class PodTimeline implements AutoCloseable {

    enum Kind { CREATED, TERMINAL, DELETED }

    record Event(long nanos, Kind kind, String pod) {
    }

    private final SharedIndexInformer<Pod> informer;
    private final List<Event> events = new ArrayList<>();
    private final Set<String> live = new HashSet<>();
    private final Set<String> ended = new HashSet<>();
    private long updates;
    private int maxLive;

    PodTimeline(KubernetesClient client, String namespace) {
        informer = client.pods().inNamespace(namespace).withLabel(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY)
                .inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod pod) {
                        record(Kind.CREATED, pod);
                        if (terminal(pod)) {
                            record(Kind.TERMINAL, pod);
                        }
                    }

                    @Override
                    public void onUpdate(Pod oldPod, Pod newPod) {
                        synchronized (PodTimeline.this) {
                            updates++;
                        }
                        if (terminal(newPod)) {
                            record(Kind.TERMINAL, newPod);
                        }
                    }

                    @Override
                    public void onDelete(Pod pod, boolean unknown) {
                        record(Kind.DELETED, pod);
                    }
                }, 0);
    }

    private static boolean terminal(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    private synchronized void record(Kind kind, Pod pod) {
        long now = System.nanoTime();
        String name = pod.getMetadata().getName();
        switch (kind) {
            case CREATED -> {
                live.add(name);
                maxLive = Math.max(maxLive, live.size());
            }
            case TERMINAL -> {
                if (!ended.add(name)) {
                    return; // one terminal event per pod
                }
                live.remove(name);
            }
            case DELETED -> live.remove(name);
        }
        events.add(new Event(now, kind, name));
    }

    /** Starts a new measurement window. */
    synchronized void reset() {
        events.clear();
        ended.clear();
        live.clear();
        maxLive = 0;
        updates = 0;
    }

    synchronized int maxLive() {
        return maxLive;
    }

    synchronized int liveNow() {
        return live.size();
    }

    synchronized long created() {
        return events.stream().filter(e -> e.kind == Kind.CREATED).count();
    }

    /** Every pod event received (adds, updates, deletes) in this window. */
    synchronized long totalEvents() {
        return updates + events.stream().filter(e -> e.kind != Kind.TERMINAL).count();
    }

    /** When the first event of this kind in the window was received ({@code System.nanoTime()}), or -1. */
    synchronized long first(Kind kind) {
        return events.stream().filter(e -> e.kind == kind).mapToLong(Event::nanos).findFirst().orElse(-1);
    }

    /** When the last event of this kind in the window was received ({@code System.nanoTime()}), or -1. */
    synchronized long last(Kind kind) {
        return events.stream().filter(e -> e.kind == kind).mapToLong(Event::nanos).reduce((a, b) -> b).orElse(-1);
    }

    /**
     * When the first pod not among {@code existing} was received as created after {@code after}, waiting up to
     * {@code timeout} for it ({@code System.nanoTime()}).
     */
    long firstCreatedOtherThan(java.util.Set<String> existing, long after, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (this) {
                java.util.OptionalLong first = events.stream().filter(e -> e.kind == Kind.CREATED && e.nanos > after && !existing.contains(e.pod))
                        .mapToLong(Event::nanos).findFirst();
                if (first.isPresent()) {
                    return first.getAsLong();
                }
            }
            Thread.sleep(5); // waiting on the watch's thread to record it
        }
        throw new IllegalStateException("no new pod created within " + timeout);
    }

    /**
     * Dispatch gaps in ms: each terminal pod event is matched, first in first out, with the next pod
     * creation after it; creations with no terminal event waiting (the initial fill) and terminal
     * events with no later creation (the tail) are not gaps.
     */
    synchronized List<Double> gapsMs() {
        List<Double> gaps = new ArrayList<>();
        java.util.ArrayDeque<Long> freed = new java.util.ArrayDeque<>();
        for (Event e : events) {
            if (e.kind == Kind.TERMINAL) {
                freed.add(e.nanos);
            } else if (e.kind == Kind.CREATED && !freed.isEmpty()) {
                gaps.add((e.nanos - freed.poll()) / 1e6);
            }
        }
        return gaps;
    }

    @Override
    public void close() {
        informer.close();
    }
}
