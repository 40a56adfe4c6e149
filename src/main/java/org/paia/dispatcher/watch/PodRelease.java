package org.paia.dispatcher.watch;

/** A game pod to let go ({@code pod-release} route: finalizer off, then delete), and why. */
public record PodRelease(String podName, String why) {
}
