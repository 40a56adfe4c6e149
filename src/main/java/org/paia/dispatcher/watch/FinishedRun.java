package org.paia.dispatcher.watch;

import java.time.Instant;
import org.paia.dispatcher.ledger.FailureSource;
import org.paia.dispatcher.ledger.Outcome;
import org.paia.dispatcher.schedule.GameRun;

/** A run whose pod reached a terminal phase, on its way to run-finish (its artifacts, then its outcome on the ledger). */
public record FinishedRun(GameRun run, Outcome outcome, String reason, FailureSource source, Instant startedAt,
                          Instant finishedAt) {
}
