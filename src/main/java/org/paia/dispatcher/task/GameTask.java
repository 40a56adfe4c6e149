package org.paia.dispatcher.task;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A validated game task. {@code data} is the task's whole {@code data} object as received, unknown
 * fields included, so that they reach the game untouched (forward compatibility).
 *
 * @param instances how many runs of the game the task asks for (1 unless a batch run)
 */
public record GameTask(String roomId, long gameId, String gameName, List<Program> programs,
                       int instances, ObjectNode data) {

    /** The {@code ws_uri} the game reports to; it carries a token and never goes to a log or pod spec. */
    public String wsUri() {
        return data.path("ws_uri").asText();
    }
}
