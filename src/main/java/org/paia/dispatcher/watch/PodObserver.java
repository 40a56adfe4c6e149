package org.paia.dispatcher.watch;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.Collection;

/**
 * Told what {@link RunWatcher} sees of game pods, whichever route hands them over (metrics; no step in any
 * route, and no dependence on route ids or endpoint names).
 */
public interface PodObserver {

    /** A pod as the watch, the relist or a launch saw it; {@code action}: ADDED, MODIFIED, DELETED, RELISTED, LAUNCHED. */
    default void podSeen(Pod pod, String action) {
    }

    /** A full listing of game pods. */
    default void podsListed(Collection<Pod> pods) {
    }

    /** A launch created (or adopted) the pod of a run of this room. */
    default void podCreated(String roomId) {
    }

    /** A game's pod ended and its run goes to be finished. */
    default void gameEnded() {
    }
}
