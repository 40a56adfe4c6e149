package org.paia.dispatcher.support;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.paia.dispatcher.pods.PodNames;

/**
 * The test's own watch on game pods: which pods are alive after every event — they exist in the API
 * (a deletion in progress included) and have not reached a terminal phase (Succeeded, Failed), i.e.
 * the pods that hold a GPU, as Kubernetes counts them — the most ever alive at once, and every event in
 * order.
 */
public final class PodTracker implements AutoCloseable {

    /** One pod event as the test saw it; {@code seenAt}: epoch milliseconds of the test's clock, for ordering only. */
    public record Event(long seenAt, Watcher.Action action, String pod, String room, String phase) {
    }

    private final Set<String> alive = new HashSet<>();
    private final List<Event> events = new ArrayList<>();
    private final Watch watch;
    private final BiConsumer<Watcher.Action, Pod> listener;
    private int maxAlive;

    public PodTracker(KubernetesClient client, String namespace, BiConsumer<Watcher.Action, Pod> listener) {
        this.listener = listener;
        this.watch = client.pods().inNamespace(namespace).withLabel(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY)
                .watch(new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, Pod pod) {
                        record(action, pod);
                    }

                    @Override
                    public void onClose(WatcherException cause) {
                    }
                });
        List<Pod> existing = client.pods().inNamespace(namespace)
                .withLabel(PodNames.MANAGED_BY_LABEL, PodNames.MANAGED_BY).list().getItems();
        synchronized (this) {
            existing.stream().filter(p -> !ended(p)).forEach(p -> alive.add(p.getMetadata().getName()));
            maxAlive = Math.max(maxAlive, alive.size());
        }
    }

    private void record(Watcher.Action action, Pod pod) {
        String name = pod.getMetadata().getName();
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        String room = annotations == null ? null : annotations.get(PodNames.ROOM_ANNOTATION);
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        synchronized (this) {
            if (action == Watcher.Action.DELETED || ended(pod)) {
                alive.remove(name);
            } else {
                alive.add(name);
            }
            maxAlive = Math.max(maxAlive, alive.size());
            events.add(new Event(System.currentTimeMillis(), action, name, room, phase));
        }
        listener.accept(action, pod);
    }

    private static boolean ended(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    public synchronized int maxAlive() {
        return maxAlive;
    }

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    @Override
    public void close() {
        watch.close();
    }
}
