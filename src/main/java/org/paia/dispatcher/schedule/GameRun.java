package org.paia.dispatcher.schedule;

import org.paia.dispatcher.pods.PodNames;
import org.paia.dispatcher.task.GameTask;

/**
 * One attempt at one instance of a task: what a game pod runs. Its pod name is a pure function
 * of (room, instance, attempt), which makes pod creation idempotent.
 */
public record GameRun(GameTask task, int instance, int attempt) {

    public String roomId() {
        return task.roomId();
    }

    public String podName() {
        return PodNames.podName(task.roomId(), instance, attempt);
    }

    /** Folder of this run under the room's workspace folder: its input file and output folder. */
    public String runFolder() {
        return "run-" + instance + "-" + attempt;
    }

    @Override
    public String toString() {
        return "GameRun[" + podName() + "]";
    }
}
