package org.paia.dispatcher.watch;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Map;
import org.paia.dispatcher.ledger.FailureSource;
import org.paia.dispatcher.ledger.Outcome;
import org.paia.dispatcher.schedule.GameRun;

/**
 * A run whose pod reached a terminal phase, on its way to the ledger.
 *
 * @param artifacts blob names by kind ({@code video}, {@code result}, {@code log}); filled by the upload
 * @param result    the game's {@code result.json}, inline, when it was readable
 */
public record FinishedRun(GameRun run, Outcome outcome, String reason, FailureSource source, Instant startedAt,
                          Instant finishedAt, Map<String, String> artifacts, JsonNode result) {

    public FinishedRun withArtifacts(Map<String, String> uploaded, JsonNode resultJson) {
        return new FinishedRun(run, outcome, reason, source, startedAt, finishedAt, Map.copyOf(uploaded), resultJson);
    }
}
