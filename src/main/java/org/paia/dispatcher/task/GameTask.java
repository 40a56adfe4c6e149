package org.paia.dispatcher.task;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A validated game task. {@code data} is the task's whole {@code data} object as received, unknown
 * fields included, so that they reach the game untouched (forward compatibility).
 *
 * @param instances   how many runs of the game the task asks for (1 unless a batch run)
 * @param parallelism the most pods of this task alive at once (at most {@code instances})
 * @param maxAttempts the most attempts per instance the task asks for, or 0 for the configured default
 * @param pool        the GPU pool its pods run in ({@code data.pool}, else the game's pool, else the default one)
 * @param priority    its priority class ({@code data.priority}, else {@code paia.priorities.default})
 */
public record GameTask(String roomId, long gameId, String gameName, List<Program> programs,
                       int instances, int parallelism, int maxAttempts, String pool, String priority,
                       ObjectNode data) {

    /** Attempts allowed per instance: the task's own {@code max_attempts}, else the configured default. */
    public int attemptsAllowed(int configuredDefault) {
        return maxAttempts > 0 ? maxAttempts : configuredDefault;
    }

    /** The {@code ws_uri} the game reports to; it carries a token and never goes to a log or pod spec. */
    public String wsUri() {
        return data.path("ws_uri").asText();
    }
}
